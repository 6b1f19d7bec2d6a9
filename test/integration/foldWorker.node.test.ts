/**
 * The fold worker (runtime/foldWorker.ts) on PP-OCRv4 det in onnxruntime-node: statistics folded in a
 * second thread equal the in-thread fold bit for bit (every histogram count, min/max, per-sample
 * extremes, the |x| and PyTorch histograms), in both modes; the fallbacks say why; a worker that
 * fails is a coded error; every worker started is terminated, on success, error and cancel.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { isQuantscopeError } from '../../src/core/errors';
import { decodeModel, encodeModel, planCalibrationFetches, planQuantization, withExtraOutputs } from '../../src/onnx';
import { prepareModel } from '../../src/onnx/prepare';
import {
  calibrate,
  foldTensor,
  type CalibrationOptions,
  type CalibrationSource,
  type StatsMap,
} from '../../src/runtime/calibrate';
import type { SpawnFoldWorker } from '../../src/runtime/foldWorker';
import { nodeFoldWorker } from '../../src/runtime/foldWorkerNode';
import { createNodeSession, nodeOrt } from '../../src/runtime/ortNode';
import { loadModelSync } from '../../src/state/modelSlice';
import { docFeeds, ocrModel, ROOT } from '../helpers/sample';
import { sileroChunk } from '../helpers/sileroData';
import { tinyTransformer } from '../helpers/models';

// built by the test setup with the command line (scripts/build-cli.mjs)
const ENTRY = join(ROOT, 'dist-cli', 'foldWorker.mjs');

/** A spawn that counts the workers started and terminated. */
function counted(spawn: SpawnFoldWorker) {
  const c = { started: 0, terminated: 0 };
  const counting: SpawnFoldWorker = () => {
    const port = spawn();
    c.started++;
    return {
      ...port,
      terminate: () => {
        c.terminated++;
        port.terminate();
      },
    };
  };
  return { c, spawn: counting };
}

function expectSameStats(a: StatsMap, b: StatsMap): void {
  expect(Object.keys(a)).toEqual(Object.keys(b));
  for (const t of Object.keys(a)) {
    const x = a[t]!;
    const y = b[t]!;
    expect(y.minmax).toEqual(x.minmax);
    // typed arrays compared element by element
    expect(y.histogram).toEqual(x.histogram);
    expect(y.batchMin).toEqual(x.batchMin);
    expect(y.batchMax).toEqual(x.batchMax);
    expect(y.abs).toEqual(x.abs);
    expect(y.torchHistogram).toEqual(x.torchHistogram);
    expect(y.histogramError).toEqual(x.histogramError);
  }
}

describe('fold worker', async () => {
  const m = loadModelSync('det.onnx', ocrModel('det'), true);
  const tensors = m.plan.activations;
  const session = await createNodeSession(encodeModel(withExtraOutputs(m.prepared, tensors)));
  const samples = [docFeeds(0), docFeeds(1)];
  const source: CalibrationSource = { count: samples.length, feeds: async (i) => samples[i]! };
  const run = (opts: CalibrationOptions, only: readonly string[] = tensors) =>
    calibrate(nodeOrt, session, source, only, opts);
  // PyTorch's observer is the slow part: the two-pass mode with it runs on every 12th tensor
  const some = tensors.filter((_, k) => k % 12 === 0);

  it.each([
    ['streaming, every tensor', {}, tensors],
    ['onnxruntime-exact with PyTorch histograms', { mode: 'onnxruntime-exact' as const, torchHistograms: true }, some],
  ])('%s: the worker’s statistics equal the in-thread fold bit for bit', async (_, mode, only) => {
    const inThread = await run(mode, only);
    const { c, spawn } = counted(nodeFoldWorker(ENTRY));
    const notes: string[] = [];
    const overlapped = await run(
      { ...mode, foldWorker: { spawn, spareBytes: 2 ** 40 }, onFoldPath: (note) => notes.push(note) },
      only,
    );
    expect(notes).toEqual([expect.stringMatching(/^statistics folded in a second worker, overlapping/)]);
    expect(c).toEqual({ started: 1, terminated: 1 });
    expectSameStats(inThread, overlapped);
    // both samples folded, into histograms that hold values
    for (const t of only) {
      expect(overlapped[t]!.batchMin).toHaveLength(2);
      expect(overlapped[t]!.histogram.total).toBeGreaterThan(0);
    }
  });

  it('a device fold (the WebGPU path) updates one set of statistics sample after sample', async () => {
    const onDevice = await run(
      {
        deviceFold: async (stats, results, names) => {
          for (const t of names) stats[t] = foldTensor(stats[t]!, t, results[t]!.data as Float32Array);
        },
      },
      some,
    );
    const inThread = await run({}, some);
    expectSameStats(inThread, onDevice);
    for (const t of some) expect(onDevice[t]!.batchMin).toHaveLength(2);
  });

  it('folds one sample at a time, saying why, when two samples would not fit or there is no worker', async () => {
    const notes: string[] = [];
    const { c, spawn } = counted(nodeFoldWorker(ENTRY));
    await run({ foldWorker: { spawn, spareBytes: 2 ** 20 }, onFoldPath: (n) => notes.push(n) }, some);
    await run(
      {
        foldWorker: { spawn: nodeFoldWorker(join(ROOT, 'missing-fold-worker.mjs')), spareBytes: 2 ** 40 },
        onFoldPath: (n) => notes.push(n),
      },
      some,
    );
    // the worker started while the first sample ran is ended when the first sample rules it out
    expect(c).toEqual({ started: 1, terminated: 1 });
    expect(notes[0]).toMatch(
      /one sample at a time: a second sample's [\d.]+ MiB of activations would not fit beside the first \(1.0 MiB to spare\)/,
    );
    expect(notes[1]).toMatch(/one sample at a time: no fold worker here \(.*missing-fold-worker.mjs is missing/);
  });

  // one core, or onnxruntime's threads on every core: no worker starts; a core to spare: the worker folds
  it.each([
    {
      cores: 1,
      threads: undefined,
      note: 'statistics folded one sample at a time: one core here, where a fold worker would only take turns with the inference',
    },
    { cores: 2, threads: undefined, note: null },
    {
      cores: 2,
      threads: 2,
      note: "statistics folded one sample at a time: onnxruntime's 2 threads take all 2 cores here, where a fold worker would only take turns with them",
    },
    { cores: 4, threads: 2, note: null },
  ])('$cores cores, inference threads $threads: a fold worker only with a core beside them', async (c) => {
    const notes: string[] = [];
    const w = counted(nodeFoldWorker(ENTRY));
    await run(
      {
        foldWorker: {
          spawn: w.spawn,
          spareBytes: 2 ** 40,
          cores: c.cores,
          ...(c.threads ? { inferenceThreads: c.threads } : {}),
        },
        onFoldPath: (n) => notes.push(n),
      },
      some,
    );
    if (c.note) {
      expect(w.c).toEqual({ started: 0, terminated: 0 });
      expect(notes).toEqual([c.note]);
    } else {
      expect(w.c).toEqual({ started: 1, terminated: 1 });
      expect(notes).toEqual([expect.stringMatching(/^statistics folded in a second worker/)]);
    }
  });

  it('a fold worker that fails is a coded error, and a cancel terminates the worker', async () => {
    const broken = counted(nodeFoldWorker(join(ROOT, 'test/fixtures/fold-worker/broken.mjs')));
    const err = await run({ foldWorker: { spawn: broken.spawn, spareBytes: 2 ** 40 } }, some).catch((e: unknown) => e);
    expect(isQuantscopeError(err) && err.code).toBe('RUNTIME');
    expect((err as Error).message).toMatch(/the fold worker failed: broken fold worker/);
    expect(broken.c).toEqual({ started: 1, terminated: 1 });

    const ac = new AbortController();
    const { c, spawn } = counted(nodeFoldWorker(ENTRY));
    const cancelled = await run(
      { foldWorker: { spawn, spareBytes: 2 ** 40 }, signal: ac.signal, onProgress: () => ac.abort() },
      some,
    ).catch((e: unknown) => e);
    expect(isQuantscopeError(cancelled) && cancelled.code).toBe('CANCELLED');
    expect(c).toEqual({ started: 1, terminated: 1 });
  });

  it('a recurrent model: the chained state is carried before the outputs move to the worker', async () => {
    const raw = readFileSync(join(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'));
    const prepared = prepareModel(decodeModel(new Uint8Array(raw), 'silero_vad_v5.onnx'), {
      fixedInputs: { sr: 16000 },
    }).model;
    // the chained output calibrated too: the one array both carried to the next run and moved to the worker
    const names = [...planQuantization(prepared, DEFAULT_CONFIG).activations, 'stateN'];
    const vad = await createNodeSession(encodeModel(withExtraOutputs(prepared, names)));
    const vadSource: CalibrationSource = {
      count: 6,
      feeds: async (k) => ({
        input: { data: sileroChunk(k), dims: [1, 512] },
        state: { data: new Float32Array(256), dims: [2, 1, 128] },
        sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
      }),
    };
    const chain = [{ output: 'stateN', input: 'state' }];
    const inThread = await calibrate(nodeOrt, vad, vadSource, names, { chain });
    const notes: string[] = [];
    const overlapped = await calibrate(nodeOrt, vad, vadSource, names, {
      chain,
      foldWorker: { spawn: nodeFoldWorker(ENTRY), spareBytes: 2 ** 40 },
      onFoldPath: (n) => notes.push(n),
    });
    expect(notes[0]).toMatch(/^statistics folded in a second worker/);
    expectSameStats(inThread, overlapped);
    // the chain changed the statistics (the decoder sees the carried state), so the comparison can fail
    const unchained = await calibrate(nodeOrt, vad, vadSource, names);
    expect(names.some((t) => unchained[t]!.minmax.max !== inThread[t]!.minmax.max)).toBe(true);
  });
});

describe('recomputed tensors (onnx/derivedTensors.ts): only what the fold cannot make is fetched', async () => {
  const m = loadModelSync('det.onnx', ocrModel('det'), true);
  const tensors = m.plan.activations;
  const samples = [docFeeds(0), docFeeds(1)];
  const source: CalibrationSource = { count: samples.length, feeds: async (i) => samples[i]! };
  const all = await createNodeSession(encodeModel(withExtraOutputs(m.prepared, tensors)));

  it.each([
    ['streaming, every tensor, in a fold worker', {}, tensors, true],
    ['onnxruntime-exact, every tensor, in this thread', { mode: 'onnxruntime-exact' as const }, tensors, false],
    // PyTorch's observer is the slow part: on the first 40 tensors (a Conv's hard-swish tail among them)
    ['streaming with PyTorch histograms, in a fold worker', { torchHistograms: true }, tensors.slice(0, 40), true],
  ])('%s: the statistics of a run that fetches every tensor, bit for bit', async (_, mode, only, worker) => {
    const recompute = planCalibrationFetches(m.prepared, only);
    // det: the hard-swish tails, Relus and HardSigmoids are recomputed, and the copies: its 6 nearest
    // Resizes (asymmetric, floor, by 2, 4 and 8) and the Concat of four of them; the Convs and the rest fetched
    if (only === tensors) {
      expect([recompute.fetched.length, recompute.steps.length]).toEqual([78, 182]);
      const copies = recompute.steps.filter((s) => s.op === 'Resize' || s.op === 'Concat');
      expect(copies.map((s) => s.op).sort()).toEqual(['Concat', ...Array<string>(6).fill('Resize')]);
      for (const s of copies) expect(tensors).toContain(s.output);
    }
    expect(recompute.steps.length).toBeGreaterThan(0);
    const fetching = await createNodeSession(encodeModel(withExtraOutputs(m.prepared, recompute.fetched)));
    const reference = await calibrate(nodeOrt, all, source, only, mode);
    const notes: string[] = [];
    const got = await calibrate(nodeOrt, fetching, source, only, {
      ...mode,
      recompute,
      ...(worker ? { foldWorker: { spawn: nodeFoldWorker(ENTRY), spareBytes: 2 ** 40, cores: 2 } } : {}),
      onFoldPath: (n) => notes.push(n),
    });
    expectSameStats(reference, got);
    // the fold path says how many tensors it recomputed
    if (only === tensors && worker)
      expect(notes).toEqual([
        expect.stringMatching(/; 158 of the 236 tensors recomputed in the fold from the 78 fetched$/),
      ]);
    await fetching.release();
  });

  it.each([
    ['rec', [1, 3, 48, 320], 191],
    ['cls', [1, 3, 48, 192], 97],
  ] as const)(
    'on PP-OCR %s: %j inputs, %i tensors recomputed, the statistics of a fetch-everything run',
    async (name, dims, recomputed) => {
      const r = loadModelSync(`${name}.onnx`, ocrModel(name), true);
      const names = r.plan.activations;
      const recompute = planCalibrationFetches(r.prepared, names);
      expect(recompute.steps.length).toBe(recomputed);
      const n = dims.reduce<number>((p, d) => p * d, 1);
      const src: CalibrationSource = {
        count: 2,
        feeds: async (i) => ({
          x: { data: Float32Array.from({ length: n }, (_, k) => Math.sin(k * 0.01 + i)), dims: [...dims] },
        }),
      };
      const a = await createNodeSession(encodeModel(withExtraOutputs(r.prepared, names)));
      const b = await createNodeSession(encodeModel(withExtraOutputs(r.prepared, recompute.fetched)));
      expectSameStats(await calibrate(nodeOrt, a, src, names), await calibrate(nodeOrt, b, src, names, { recompute }));
    },
  );

  it('on a transformer: tensors a MatMul reads stay fetched (onnxruntime may fold a scale into it)', async () => {
    const t = prepareModel(tinyTransformer({ layers: 1 })).model;
    const names = planQuantization(t, DEFAULT_CONFIG).activations;
    const recompute = planCalibrationFetches(t, names);
    const reads = new Set(t.graph!.node.filter((n) => n.opType === 'MatMul').flatMap((n) => n.input));
    expect(recompute.steps.some((s) => reads.has(s.output))).toBe(false);
    const feeds = (i: number) => ({
      tokens: {
        type: 'int64' as const,
        data: BigInt64Array.from({ length: 16 }, (_, k) => BigInt((k * 37 + i * 11) % 512)),
        dims: [1, 16],
      },
    });
    const src: CalibrationSource = { count: 2, feeds: async (i) => feeds(i) };
    const a = await createNodeSession(encodeModel(withExtraOutputs(t, names)));
    const b = await createNodeSession(encodeModel(withExtraOutputs(t, recompute.fetched)));
    expectSameStats(await calibrate(nodeOrt, a, src, names), await calibrate(nodeOrt, b, src, names, { recompute }));
  });
});
