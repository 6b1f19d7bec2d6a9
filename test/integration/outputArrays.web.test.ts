/**
 * Recycled output arrays (runtime/outputArrayPool.ts) in onnxruntime-web itself: its Node build with the
 * output copy rewritten as the app's build rewrites it (scripts/ortOutputArrayHook.ts), calibrating
 * PP-OCRv4 det as the page does (the fetch plan, the fold worker). The runs write into the arrays the
 * fold gave back (only the samples in flight get new ones), and the statistics equal, bit for bit, a
 * calibration whose every output is a new array; the same with the fold in this thread. The debugger
 * (two models' every tensor a sample) likewise: the second sample's outputs are the first's arrays, and
 * its figures those of a debugger run on new arrays.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hookOutputArrays } from '../../scripts/ortOutputArrayHook';
import { encodeModel, planCalibrationFetches, withExtraOutputs } from '../../src/onnx';
import { DEFAULT_CONFIG } from '../../src/core/config';
import type { SampleSpec } from '../../src/data/samples';
import { calibrate, type CalibrationOptions, type CalibrationSource, type StatsMap } from '../../src/runtime/calibrate';
import { debugModels } from '../../src/runtime/debug';
import { staticQdqExport } from '../../src/runtime/debugJob';
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
  /** What `job` returns, and how many output arrays onnxruntime made new meanwhile (none lent to it). */
  const counting = async <T>(job: () => Promise<T>) => {
    const host = globalThis as Host;
    let made = 0;
    host[OUTPUT_ARRAY_HOOK] = () => {
      made++;
      return undefined;
    };
    try {
      return { result: await job(), made };
    } finally {
      delete host[OUTPUT_ARRAY_HOOK];
    }
  };
  /** A calibration, and how many output arrays onnxruntime made new (the pool had none to lend). */
  const run = async (opts: CalibrationOptions) => {
    const r = await counting(() => calibrate(ort, session, source, tensors, { recompute, ...opts }));
    return { stats: r.result, made: r.made };
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

  it('the debugger: the second sample’s outputs are the first’s arrays, its figures the same', async () => {
    const quant = staticQdqExport(m.prepared, DEFAULT_CONFIG, fresh.stats);
    const specs: SampleSpec[] = [0, 1].map((i) => ({
      name: `doc${i}.png`,
      inputs: { x: { kind: 'tensor', tensor: samples[i]!.x! } },
    }));
    const plain = await counting(() => debugModels(ort, m.prepared, quant, specs, { recycleOutputs: false }));
    const recycled = await counting(() => debugModels(ort, m.prepared, quant, specs));
    expect(plain.made).toBeGreaterThan(2 * tensors.length);
    expect(recycled.made * 2).toBe(plain.made);
    expect(recycled.result.tensors).toEqual(plain.result.tensors);
    expect(recycled.result.firstDivergence).toBe(plain.result.firstDivergence);
  });
});
