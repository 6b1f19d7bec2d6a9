/**
 * Recycled output arrays (runtime/outputArrayPool.ts) in onnxruntime-web itself: its Node build with the
 * output copy rewritten as the app's build rewrites it (scripts/ortOutputArrayHook.ts), calibrating
 * PP-OCRv4 det as the page does (the fetch plan, the fold worker). The runs write into the arrays the
 * fold gave back (only the samples in flight get new ones), and the statistics equal, bit for bit, a
 * calibration whose every output is a new array; the same with the fold in this thread.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hookOutputArrays } from '../../scripts/ortOutputArrayHook';
import { encodeModel, planCalibrationFetches, withExtraOutputs } from '../../src/onnx';
import { calibrate, type CalibrationOptions, type CalibrationSource, type StatsMap } from '../../src/runtime/calibrate';
import { nodeFoldWorker } from '../../src/runtime/foldWorkerNode';
import type { OrtModule } from '../../src/runtime/ort';
import { OUTPUT_ARRAY_HOOK } from '../../src/runtime/outputArrayPool';
import { loadModelSync } from '../../src/state/modelSlice';
import { docFeeds, ocrModel, ROOT } from '../helpers/sample';

const DIST = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
// inside node_modules, so that the rewritten module resolves onnxruntime-common as the original does
const DIR = join(ROOT, 'node_modules', '.cache', `quantscope-output-arrays-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

type Host = { [OUTPUT_ARRAY_HOOK]?: (c: unknown, n: number) => Float32Array | undefined };

async function hookedOrt(): Promise<OrtModule & { env: { wasm: { wasmPaths?: string; numThreads?: number } } }> {
  mkdirSync(DIR, { recursive: true });
  const file = join(DIR, 'ort.node.hooked.mjs');
  writeFileSync(file, hookOutputArrays(readFileSync(join(DIST, 'ort.node.min.mjs'), 'utf8'), 'ort.node.min.mjs')!);
  const ort = await import(pathToFileURL(file).href);
  ort.env.wasm.wasmPaths = pathToFileURL(`${DIST}/`).href;
  ort.env.wasm.numThreads = 1;
  return ort;
}

function expectSameStats(a: StatsMap, b: StatsMap): void {
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const t of Object.keys(a)) {
    expect(b[t]!.minmax, t).toEqual(a[t]!.minmax);
    expect(b[t]!.histogram, t).toEqual(a[t]!.histogram);
    expect(b[t]!.batchMin, t).toEqual(a[t]!.batchMin);
    expect(b[t]!.batchMax, t).toEqual(a[t]!.batchMax);
  }
}

describe('onnxruntime-web writing into recycled output arrays', async () => {
  const ort = await hookedOrt();
  const m = loadModelSync('det.onnx', ocrModel('det'), true);
  const tensors = m.plan.activations;
  const recompute = planCalibrationFetches(m.prepared, tensors);
  const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(m.prepared, recompute.fetched)), {
    executionProviders: ['wasm'],
  });
  const SAMPLES = 5;
  const samples = Array.from({ length: SAMPLES }, (_, i) => docFeeds(i));
  const source: CalibrationSource = { count: SAMPLES, feeds: async (i) => samples[i]! };
  const fetched = recompute.fetched.length;
  const worker = {
    spawn: nodeFoldWorker(join(ROOT, 'dist-cli', 'foldWorker.mjs')),
    spareBytes: 4 * 1024 ** 3,
    cores: 2,
  };
  /** A calibration, and how many output arrays onnxruntime made new (the pool had none to lend). */
  const run = async (opts: CalibrationOptions) => {
    const host = globalThis as Host;
    let made = 0;
    host[OUTPUT_ARRAY_HOOK] = () => {
      made++;
      return undefined;
    };
    try {
      const stats = await calibrate(ort, session, source, tensors, { recompute, ...opts });
      return { stats, made };
    } finally {
      delete host[OUTPUT_ARRAY_HOOK];
    }
  };
  const fresh = await run({ foldWorker: worker, recycleOutputs: false });

  it('every output is a new array without recycling', () => {
    expect(fresh.made).toBe(SAMPLES * fetched);
  });

  it('with the fold worker: runs write into the arrays it sent back, and the statistics are the same bits', async () => {
    const r = await run({ foldWorker: worker });
    // the first samples (one running, two waiting in the worker) are new; the next ones' arrays come back
    expect(r.made).toBeLessThanOrEqual(3 * fetched);
    expect(r.made).toBeGreaterThanOrEqual(fetched);
    expectSameStats(fresh.stats, r.stats);
  });

  it('folded in this thread: every run after the first writes into the first sample’s arrays', async () => {
    const r = await run({});
    expect(r.made).toBe(fetched);
    expectSameStats(fresh.stats, r.stats);
  });
});
