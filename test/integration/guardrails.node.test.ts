/**
 * Guard rails in onnxruntime-node: the check every export gets (a built model whose middle tensor
 * needs more than 8 bits misses the target, its twin without the outlier meets it), Silero VAD v5's
 * recurrent state chained through calibration (it moves the ranges of the state path, and only
 * those), the words for a model with nothing to calibrate and for a sample the model or its export
 * fails on, and the command line on Silero without --fix.
 */
import * as ort from 'onnxruntime-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { recurrentPairs } from '../../src/core/guard';
import {
  buildQdqModel,
  decodeModel,
  encodeModel,
  fixableInputs,
  planQuantization,
  prepareModel,
  summarizeModel,
  whyNothingToCalibrate,
  withExtraOutputs,
  type ModelProto,
} from '../../src/onnx';
import { calibrate, type StatsMap } from '../../src/runtime/calibrate';
import { guardExport } from '../../src/runtime/guardRun';
import type { Feeds, OrtModule } from '../../src/runtime/ort';
import { calibratedRanges } from '../../src/core/calibratedRanges';
import { outlierModel } from '../helpers/guardModels';
import { makeValueInfo } from '../../src/onnx/proto';
import { DT } from '../../src/onnx/tensor';
import { ROOT } from '../helpers/sample';
import { sileroChunk, writeSileroData } from '../helpers/sileroData';
import { runCli as cli } from '../helpers/cli';
import { createLocalCalibrator } from '../../src/runtime/localCalibrator';
import type { SampleSpec } from '../../src/data/samples';

const ORT = ort as unknown as OrtModule;
const SILERO = join(ROOT, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx');
const RAW = new Uint8Array(readFileSync(SILERO));
const dir = mkdtempSync(join(tmpdir(), 'quantscope-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const session = (m: ModelProto | Uint8Array) =>
  ort.InferenceSession.create(m instanceof Uint8Array ? m : encodeModel(m), { logSeverityLevel: 3 });

/** x ~ N(0, 1) from a fixed generator. */
function normals(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

async function quantizeAndGuard(gain: number) {
  const model = prepareModel(outlierModel(gain)).model;
  const plan = planQuantization(model, DEFAULT_CONFIG);
  const feeds = async (i: number): Promise<Feeds> => ({ x: { data: normals(i + 1, 16), dims: [1, 16] } });
  const stats = await calibrate(
    ORT,
    await session(withExtraOutputs(model, plan.activations)),
    { count: 16, feeds },
    plan.activations,
  );
  const q = buildQdqModel(model, plan, calibratedRanges(stats), DEFAULT_CONFIG).model;
  return guardExport(
    ORT,
    await session(model),
    await session(q),
    { count: 8, feeds: (i) => feeds(100 + i) },
    {
      source: '8 held-out samples',
    },
  );
}

describe('the guard rail on an export', () => {
  it('a tensor whose range needs more than 8 bits misses the 20 dB target; without the outlier it meets it', async () => {
    const miss = await quantizeAndGuard(1000);
    expect(miss).toMatchObject({ output: 'out', metric: 'output SQNR', target: 20, passed: false, samples: 8 });
    expect(miss.value).toBeLessThan(10); // measured below 1 dB
    const meets = await quantizeAndGuard(1);
    expect(meets).toMatchObject({ output: 'out', metric: 'output SQNR', passed: true });
    expect(meets.value).toBeGreaterThan(25); // measured 29.1 dB
  });
});

describe('a sample the model fails on', () => {
  it('is named, with the shapes it gave, beside the words of onnxruntime', async () => {
    const model = prepareModel(outlierModel(1)).model;
    const plan = planQuantization(model, DEFAULT_CONFIG);
    const shapes = [
      [1, 16],
      [1, 8],
    ];
    const source = {
      count: 2,
      feeds: async (i: number): Promise<Feeds> => ({ x: { data: normals(i + 1, shapes[i]![1]!), dims: shapes[i]! } }),
      name: (i: number) => `row-${i + 1}.npy`,
    };
    const run = calibrate(ORT, await session(withExtraOutputs(model, plan.activations)), source, plan.activations);
    await expect(run).rejects.toMatchObject({
      code: 'RUNTIME',
      message: expect.stringMatching(
        /^sample 2 of 2 \(row-2\.npy\), inputs x float32 \[1, 8\]: the model failed on it: .*invalid dimensions for input: x.* Got: 8 Expected: 16/,
      ),
    });
  });
});

describe('a sample the export fails on', () => {
  it('is named in the check as the export failing, not the float model', async () => {
    const model = prepareModel(outlierModel(1)).model;
    // the export's Reshape asks for 15 of the 16 values: it loads, and fails on the first sample
    const broken = prepareModel(outlierModel(1)).model;
    const shape = broken.graph!.initializer.find((t) => t.name === 'shape')!;
    shape.rawData = new Uint8Array(BigInt64Array.of(1n, 15n, 1n).buffer);
    broken.graph!.output[0] = makeValueInfo('out', DT.FLOAT, [1, 15, 1]);
    const source = {
      count: 3,
      feeds: async (i: number): Promise<Feeds> => ({ x: { data: normals(i + 1, 16), dims: [1, 16] } }),
      name: (i: number) => `held-${i + 1}.npy`,
    };
    const check = guardExport(ORT, await session(model), await session(broken), source, { source: '3 samples' });
    const error = await check.then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(error?.code).toBe('RUNTIME');
    expect(error?.message).toMatch(
      /^sample 1 of 3 \(held-1\.npy\), inputs x float32 \[1, 16\]: the export failed on it: .*cannot be reshaped/,
    );
    // onnxruntime's build path and C++ signature are not a user's words
    expect(error?.message).not.toMatch(/reshape_helper\.h|onnxruntime::/);
  });
});

describe("the float model's outputs for a file the page runs itself (a .tflite's check)", () => {
  const local = () =>
    createLocalCalibrator(ORT, { backend: 'cpu', numThreads: 1, crossOriginIsolated: false, hardwareConcurrency: 2 });
  const spec = (name: string, seed: number, width = 16): SampleSpec => ({
    name,
    inputs: { x: { kind: 'tensor', tensor: { data: normals(seed, width), dims: [1, width] } } },
  });
  it("are onnxruntime's own outputs, sample by sample", async () => {
    const model = prepareModel(outlierModel(1)).model;
    const bytes = encodeModel(model);
    const samples = [spec('a.npy', 1), spec('b.npy', 2)];
    const got = await local().outputs({
      model: bytes.slice().buffer,
      samples,
      backend: 'cpu',
      output: 'out',
      withInputs: true,
    }).result;
    const s = await session(bytes);
    for (let i = 0; i < 2; i++) {
      const want = (await s.run({ x: new ort.Tensor('float32', normals(i + 1, 16), [1, 16]) })).out!;
      expect(got[i]!.dims).toEqual([...want.dims]);
      expect(Array.from(got[i]!.data)).toEqual(Array.from(want.data as Float32Array));
      // the inputs as fed, for the file the page runs itself
      expect(got[i]!.inputs?.x?.dims).toEqual([1, 16]);
      expect(Array.from(got[i]!.inputs!.x!.data)).toEqual(Array.from(normals(i + 1, 16)));
    }
  });
  it('name the sample the float model fails on, and an output the model lacks', async () => {
    const bytes = encodeModel(prepareModel(outlierModel(1)).model);
    const run = (samples: SampleSpec[], output = 'out') =>
      local().outputs({ model: bytes.slice().buffer, samples, backend: 'cpu', output }).result;
    await expect(run([spec('a.npy', 1), spec('narrow.npy', 2, 8)])).rejects.toMatchObject({
      code: 'RUNTIME',
      message: expect.stringMatching(
        /^sample 2 of 2 \(narrow\.npy\), inputs x float32 \[1, 8\]: the float model failed on it/,
      ),
    });
    await expect(run([spec('a.npy', 1)], 'logits')).rejects.toMatchObject({
      message: 'the model has no output "logits"',
    });
  });
});

describe('Silero VAD v5: recurrent state and control flow', () => {
  const original = decodeModel(RAW, 'silero_vad_v5.onnx');
  const prepared = prepareModel(original, { fixedInputs: { sr: 16000 } }).model;
  const plan = planQuantization(prepared, DEFAULT_CONFIG);
  const summary = summarizeModel(original, prepared, plan, 'silero_vad_v5.onnx', RAW.length, []);
  const feeds = async (k: number): Promise<Feeds> => ({
    input: { data: sileroChunk(k), dims: [1, 512] },
    state: { data: new Float32Array(256), dims: [2, 1, 128] },
    sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
  });

  it('stateN is found as state one chunk later', () => {
    expect(recurrentPairs(summary.inputs, summary.outputs)).toEqual([{ output: 'stateN', input: 'state' }]);
  });

  it('chaining the state changes the ranges of the state path, and only those', async () => {
    const cal = async (chain: boolean): Promise<StatsMap> =>
      calibrate(
        ORT,
        await session(withExtraOutputs(prepared, plan.activations)),
        { count: 12, feeds },
        plan.activations,
        chain ? { chain: recurrentPairs(summary.inputs, summary.outputs) } : {},
      );
    const zeros = await cal(false);
    const chained = await cal(true);
    const width = (s: StatsMap, t: string) => s[t]!.minmax.max - s[t]!.minmax.min;
    // after the LSTM (decoder): the state reaches it
    for (const t of plan.activations.filter((t) => t.includes('/decoder/')))
      expect(Math.abs(width(chained, t) - width(zeros, t)) / width(zeros, t)).toBeGreaterThan(0.01);
    // before it (stft, encoder): the state never reaches them
    for (const t of plan.activations.filter((t) => !t.includes('/decoder/'))) {
      expect(chained[t]!.minmax.min).toBe(zeros[t]!.minmax.min);
      expect(chained[t]!.minmax.max).toBe(zeros[t]!.minmax.max);
    }
  });

  it('with nothing to calibrate at the top level, says why in words', () => {
    const bare = prepareModel(original).model;
    const why = whyNothingToCalibrate(bare, planQuantization(bare, DEFAULT_CONFIG), fixableInputs(original));
    expect(why).toMatch(
      /nothing to calibrate at the top level: all \d+ quantizable nodes are inside control flow \(If_0\)/,
    );
    expect(why).toMatch(/--fix sr=VALUE/);
    expect(whyNothingToCalibrate(prepared, plan, fixableInputs(original), { sr: 16000 })).toBeNull();
  });
});

describe('quantscope quantize on Silero VAD v5', () => {
  it('without --fix: fixes sr from the data, says so, calibrates in streaming order, and checks the export', async () => {
    writeSileroData(join(dir, 'cal'), 10);
    writeSileroData(join(dir, 'held'), 4, 50);
    const out = join(dir, 'vad.int8.onnx');
    const r = await cli(
      'quantize',
      SILERO,
      '--data',
      join(dir, 'cal'),
      '--held-out',
      join(dir, 'held'),
      '--chain',
      '-o',
      out,
    );
    expect(r.stderr).not.toMatch(/TypeError|\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/fixed sr = 16000 automatically/);
    expect(r.stderr).toMatch(/chained: state/);
    // the guard's line names the metric, its value and the target, on the output (never stateN)
    expect(`${r.stdout}${r.stderr}`).toMatch(
      /output SQNR -?\d+\.\d dB on output output, (meets|under) the 20\.0 dB target \(4 held-out samples\)/,
    );
    const s = await session(new Uint8Array(readFileSync(out)));
    expect(s.outputNames).toContain('stateN');
  });

  it('with nothing to calibrate at the top level (sr differs between samples): exit 1, the reason in words', async () => {
    writeSileroData(join(dir, 'mixed'), 2, 0, 16000n);
    writeSileroData(join(dir, 'mixed'), 2, 2, 8000n);
    const r = await cli('quantize', SILERO, '--data', join(dir, 'mixed'), '-o', join(dir, 'none.onnx'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /nothing to calibrate at the top level: all \d+ quantizable nodes are inside control flow/,
    );
    expect(r.stderr).not.toMatch(/TypeError|\n\s+at /);
  });
});
