/**
 * The switchboard model (one session, every quantizer gated by a boolean input) against separately
 * built files for the same configuration, on the PP-OCRv4 recogniser and on a small built model.
 * Measured on 3 held-out lines of rec (output SQNR against the float model): the separately built
 * int8 QDQ file and the switchboard differ by 1.14 dB (file 17.21, switchboard 16.08: the file is closer
 * to float), and by 0.01 dB with one group kept float (onnxruntime fuses the file's DQ → op → Q into
 * integer kernels; the switchboard's scales are inputs, so it computes every op in float32 on
 * dequantized values); weight-only files (DequantizeLinear in both) agree to 0.000 dB.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core/config';
import { EMPTY_SUMS, foldErrorSums, sumsSqnr } from '../../src/core/errorSums';
import { decodePng, PPOCR_REC_PRESET } from '../../src/data/image';
import type { SampleSpec } from '../../src/data/samples';
import { materializeSample } from '../../src/data/samples';
import { decodeModel, encodeModel, exportForm, planQuantization, prepareModel, type ModelProto } from '../../src/onnx';
import { applyGroupChoice } from '../../src/onnx/groups';
import type { StatsMap } from '../../src/runtime/calibrate';
import { toOrtFeeds, type OrtModule } from '../../src/runtime/ort';
import { prepareTuning, rangesFor } from '../../src/runtime/tune/prepare';
import type { TuneContext } from '../../src/runtime/tune/tuneContext';
import { settingFor } from '../../src/runtime/tune/setting';
import { ocrModel, ROOT } from '../helpers/sample';
import { calibrateOnSamples, notingSessionOptions } from '../helpers/tuneSetup';

const nodeOrt = ort as unknown as OrtModule;
const LINES = join(ROOT, 'public', 'samples', 'rec');
const names = Object.keys(JSON.parse(readFileSync(join(LINES, 'labels.json'), 'utf8')) as Record<string, string>);
const spec = (n: string): SampleSpec => ({
  name: n,
  inputs: {
    x: {
      kind: 'image',
      name: n,
      image: decodePng(new Uint8Array(readFileSync(join(LINES, n))), n),
      preset: PPOCR_REC_PRESET,
    },
  },
});
const calib = names.slice(0, 4).map(spec);
const held = names.slice(16, 19).map(spec);

let prepared: ModelProto;
let stats: StatsMap;
let floatOut: Float32Array[];
const raw = ocrModel('rec');

async function outputsOf(bytes: Uint8Array): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const out: Float32Array[] = [];
  for (const h of held) {
    const feeds = materializeSample(h);
    const r = await s.run({ x: new ort.Tensor('float32', feeds.x!.data as Float32Array, [...feeds.x!.dims]) });
    out.push(Float32Array.from(r[s.outputNames[0]!]!.data as Float32Array));
  }
  await s.release();
  return out;
}

function sqnrAgainstFloat(outs: Float32Array[]): number {
  let s = EMPTY_SUMS;
  outs.forEach((o, i) => (s = foldErrorSums(s, floatOut[i]!, o)));
  return sumsSqnr(s);
}

function separateFile(config: QuantConfig): Uint8Array {
  const qdq = (config.form ?? { kind: 'qdq' }).kind === 'qdq';
  return encodeModel(
    exportForm(
      prepared,
      config,
      qdq ? { plan: planQuantization(prepared, config), ranges: rangesFor(stats, prepared, config) } : undefined,
    ).model,
  );
}

async function switchboardSqnr(ctx: TuneContext, config: QuantConfig): Promise<number> {
  return (await ctx.evaluator.evaluate(settingFor(ctx.sb, ctx.setting, config))).sqnrDb;
}

beforeAll(async () => {
  prepared = prepareModel(decodeModel(raw, 'rec.onnx'), {}).model;
  stats = await calibrateOnSamples(prepared, calib);
  floatOut = await outputsOf(raw);
}, 120_000);

describe('the switchboard model', () => {
  it('static QDQ: every gate off is the float model; configurations match separately built files', async () => {
    const { ort: noting, options } = notingSessionOptions();
    const ctx = await prepareTuning(noting, prepared, DEFAULT_CONFIG, stats, held, { floatBytes: raw.length });
    // the switchboard session: QDQ transformers off, and threads that wait without spinning (evaluate.ts)
    expect(options).toContainEqual(
      expect.objectContaining({ extra: { session: { disable_quant_qdq: '1', intra_op: { allow_spinning: '0' } } } }),
    );
    try {
      // all gates off: exactly the float model
      let allFloat: QuantConfig = DEFAULT_CONFIG;
      for (const g of ctx.groups) allFloat = applyGroupChoice(allFloat, g, { kind: 'float' });
      // all gates off is answered from the cached float outputs (evaluate.ts): no run, every metric exact
      const runs0 = ctx.evaluator.runs;
      const off = await ctx.evaluator.evaluate(settingFor(ctx.sb, ctx.setting, allFloat));
      expect(ctx.evaluator.runs).toBe(runs0);
      expect(off).toMatchObject({ sqnrDb: Infinity, top1: 1, samples: held.length });
      // and those cached outputs (the switchboard run with every gate off) are the float model's: the float
      // file in a session of its own, against them (measured: float rounding of fused kernels only)
      const floatFile = await ort.InferenceSession.create(raw, { logSeverityLevel: 3 });
      try {
        const fileVsCache = await ctx.evaluator.compare(async (inputs) => {
          const r = await floatFile.run(toOrtFeeds(nodeOrt, inputs), [ctx.evaluator.output]);
          return r[ctx.evaluator.output] as never;
        });
        expect(fileVsCache.sqnrDb).toBeGreaterThan(80);
        expect(fileVsCache.top1).toBe(1);
      } finally {
        await floatFile.release();
      }
      // a setting that quantizes is run, and is not the float model
      const one = await ctx.evaluator.evaluate(settingFor(ctx.sb, ctx.setting, DEFAULT_CONFIG));
      expect(ctx.evaluator.runs).toBe(runs0 + held.length);
      expect(one.sqnrDb).toBeLessThan(80);
      const g = ctx.groups.find((x) => x.nodes.length > 0)!;
      // a file mixing int16 into int8 activations is opset 21: it loads at onnxruntime's default
      // optimization level since its int8 activations are stored as uint8 (onnx/activationStorage.ts)
      const t = ctx.groups.find((x) => x.tensors.length > 0 && x.nodes.length > 0)!;
      const configs: QuantConfig[] = [
        DEFAULT_CONFIG,
        applyGroupChoice(DEFAULT_CONFIG, g, { kind: 'float' }),
        applyGroupChoice(DEFAULT_CONFIG, t, { kind: 'activations', fields: { dtype: 'int16' } }),
      ];
      const rows: [number, number][] = [];
      for (const c of configs)
        rows.push([await switchboardSqnr(ctx, c), sqnrAgainstFloat(await outputsOf(separateFile(c)))]);
      for (const [sb, file] of rows) {
        expect(Number.isFinite(sb)).toBe(true);
        // measured 1.14 (16.08 against 17.21 dB), 0.01, and 1.12 with one group int16 (16.41 against 15.29)
        expect(Math.abs(sb - file)).toBeLessThan(1.5);
      }
      // a bound that can fail: per-tensor weights in the file, per-channel in the switchboard, differ by far more
      const perTensor = sqnrAgainstFloat(
        await outputsOf(separateFile({ ...DEFAULT_CONFIG, weights: { ...DEFAULT_CONFIG.weights, perChannel: false } })),
      );
      expect(Math.abs(rows[0]![0] - perTensor)).toBeGreaterThan(1.5);
      // settingFor keeps each tensor's range per statistics object (setting.ts cachedRange): asked in turn
      // for min-max, MSE, a one-group override and min-max again, the settings equal those computed on a
      // fresh copy of the statistics (nothing cached), and MSE's differ from min-max's (a key that left out
      // the method would hand MSE the min-max ranges)
      const mse: QuantConfig = { ...DEFAULT_CONFIG, activations: { ...DEFAULT_CONFIG.activations, method: 'mse' } };
      const asked = [
        DEFAULT_CONFIG,
        mse,
        applyGroupChoice(mse, t, { kind: 'activations', fields: { method: 'percentile' } }),
        DEFAULT_CONFIG,
      ];
      const got = asked.map((c) => settingFor(ctx.sb, ctx.setting, c));
      // the cache is keyed by each tensor's statistics object: copies of them have nothing cached
      const fresh = () => Object.fromEntries(Object.entries(stats).map(([t, s]) => [t, { ...s }]));
      got.forEach((s, i) =>
        expect(s).toEqual(settingFor(ctx.sb, { prepared: ctx.setting.prepared, stats: fresh() }, asked[i]!)),
      );
      // the written file's ranges (prepare.ts rangesFor) go through the same cache
      expect(rangesFor(stats, prepared, mse)).toEqual(rangesFor(fresh(), prepared, mse));
      expect(rangesFor(stats, prepared, mse)).not.toEqual(rangesFor(stats, prepared, DEFAULT_CONFIG));
      expect(got[1]!.activations).not.toEqual(got[0]!.activations);
      expect(got[2]!.activations.get(t.tensors[0]!)).not.toEqual(got[1]!.activations.get(t.tensors[0]!));
    } finally {
      await ctx.release();
    }
  }, 240_000);

  it('weight-only int4 blocks and int8 per node: the switchboard equals the separately built file', async () => {
    const base: QuantConfig = {
      ...DEFAULT_CONFIG,
      form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 32 },
    };
    const ctx = await prepareTuning(nodeOrt, prepared, base, null, held, { floatBytes: raw.length });
    try {
      const mixed = applyGroupChoice(
        applyGroupChoice(base, ctx.groups[0]!, { kind: 'weights', dtype: 'int8', blockSize: null }),
        ctx.groups[1]!,
        { kind: 'float' },
      );
      for (const c of [base, mixed]) {
        const sb = await switchboardSqnr(ctx, c);
        const file = sqnrAgainstFloat(await outputsOf(separateFile(c)));
        expect(Math.abs(sb - file)).toBeLessThan(0.05);
      }
    } finally {
      await ctx.release();
    }
  }, 240_000);
});
