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
import { biasCorrectionTargets, correctBiasesFromData } from '../../src/runtime/biasCorrectionFromData';
import { collectInputMoments } from '../../src/runtime/inputMoments';
import { roundingTargets } from '../../src/runtime/roundingTargets';
import { exportForm } from '../../src/onnx/forms';
import type { QuantConfig } from '../../src/core/config';
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

  // the jobs that fetch a layer's inputs a sample (bias correction, GPTQ/AdaRound's input moments): the
  // second sample's outputs are the first's arrays, and what they measure is the same
  const two: CalibrationSource = { count: 2, feeds: async (i) => samples[i]! };
  const weightOnly: QuantConfig = {
    ...DEFAULT_CONFIG,
    form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: null },
    weights: { ...DEFAULT_CONFIG.weights, biasCorrection: true, algorithm: 'gptq' },
  };
  // the layers' inputs a run fetches (the graph's own input is fed, not fetched)
  const graphInputs = new Set(m.prepared.graph!.input.map((v) => v.name));
  const inputsOf = (nodes: readonly { input: readonly string[] }[]) =>
    new Set(nodes.map((n) => n.input[0]!).filter((t) => !graphInputs.has(t))).size;

  it('bias correction: the second sample’s outputs are the first’s arrays, the same corrections', async () => {
    const exported = exportForm(m.prepared, weightOnly).model;
    const correct = (recycleOutputs?: boolean) =>
      counting(() => correctBiasesFromData(ort, m.prepared, weightOnly, two, exported, { recycleOutputs }));
    const plain = await correct(false);
    const recycled = await correct();
    // one new array a fetched input fewer (the dequantized weights' own run makes the same in both)
    expect(plain.made - recycled.made).toBe(inputsOf(biasCorrectionTargets(m.prepared, weightOnly)));
    expect(recycled.result.layers).toEqual(plain.result.layers);
    expect(encodeModel(recycled.result.model)).toEqual(encodeModel(plain.result.model));
  });

  it('GPTQ’s input moments: the second sample’s outputs are the first’s arrays, the same moments', async () => {
    const targets = roundingTargets(m.prepared, weightOnly).slice(0, 4); // four layers: X^T X is slow on det
    const collect = (recycleOutputs?: boolean) =>
      counting(() => collectInputMoments(ort, m.prepared, targets, two, { recycleOutputs }));
    const plain = await collect(false);
    const recycled = await collect();
    // every layer's input fetched, the graph's own among them (a run may output its input)
    expect(plain.made).toBe(2 * new Set(targets.map((t) => t.input)).size);
    expect(recycled.made * 2).toBe(plain.made);
    expect(recycled.result.moments).toEqual(plain.result.moments);
  });
});
