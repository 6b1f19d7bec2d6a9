/**
 * An evaluation stopped by a bound (runtime/tune/evaluate.ts EvalBound) is exact: it stops only once
 * the metric cannot reach the bound whatever the remaining samples give, and what it reports as the
 * most the metric could be is never below the value a full evaluation measures.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { materializeSample, type SampleSpec } from '../../src/data/samples';
import { encodeModel, planQuantization, prepareModel, withExtraOutputs } from '../../src/onnx';
import { makeNode } from '../../src/onnx/proto';
import { calibrate } from '../../src/runtime/calibrate';
import type { OrtModule } from '../../src/runtime/ort';
import { prepareTuning } from '../../src/runtime/tune/prepare';
import { settingFor } from '../../src/runtime/tune/setting';
import { buildModel, floatTensor } from '../helpers/models';
import { seededFloats } from '../helpers/sample';

const nodeOrt = ort as unknown as OrtModule;
const LAYERS = 6;
const model = prepareModel(
  buildModel({
    inputs: [['X', [1, 16]]],
    outputs: [[`t${LAYERS}`, [1, 16]]],
    inits: Array.from({ length: LAYERS }, (_, k) =>
      floatTensor(`W${k}`, [16, 16], (i) => (i % 17 === 0 ? 0.9 : 0.25 * Math.sin(i * (0.37 + 0.01 * k)))),
    ),
    nodes: Array.from({ length: LAYERS }, (_, k) =>
      makeNode('MatMul', [k === 0 ? 'X' : `t${k}`, `W${k}`], [`t${k + 1}`], `mm${k}`),
    ),
  }),
  {},
).model;
// the held-out samples differ in scale, so that their errors differ and the hardest goes first
const samples: SampleSpec[] = Array.from({ length: 12 }, (_, i) => ({
  name: `x${i}`,
  inputs: {
    X: { kind: 'tensor', tensor: { data: seededFloats(16, 70 + i).map((v) => v * (1 + (i % 4))), dims: [1, 16] } },
  },
}));

describe('evaluations stopped by a bound', () => {
  it('stop only where the target cannot hold, and their upper bound is at least the full value', async () => {
    const plan = planQuantization(model, DEFAULT_CONFIG);
    const s = await ort.InferenceSession.create(encodeModel(withExtraOutputs(model, plan.activations)));
    const stats = await calibrate(
      nodeOrt,
      s,
      { count: 6, feeds: async (i) => materializeSample(samples[i]!) },
      plan.activations,
    );
    await s.release();
    const ctx = await prepareTuning(nodeOrt, model, DEFAULT_CONFIG, stats, samples.slice(6), {
      floatBytes: encodeModel(model).length,
    });
    try {
      const ev = ctx.evaluator;
      const setting = settingFor(ctx.sb, ctx.setting, DEFAULT_CONFIG);
      const full = await ev.evaluate(setting);
      expect(full.samples).toBe(6);
      expect(full.atMost).toBeUndefined();
      ev.hardestFirst();
      const again = await ev.evaluate(setting);
      expect(again.sqnrDb).toBeCloseTo(full.sqnrDb, 6); // the order does not change the sums
      // a bound the configuration cannot reach stops it after the first (hardest) sample
      const runs0 = ev.runs;
      const stopped = await ev.evaluate(setting, undefined, { bound: { metric: 'sqnr', below: full.sqnrDb + 20 } });
      expect(ev.runs - runs0).toBe(1);
      expect(stopped.samples).toBe(1);
      expect(stopped.atMost!).toBeGreaterThanOrEqual(full.sqnrDb);
      expect(stopped.atMost!).toBeLessThan(full.sqnrDb + 20);
      // a bound it reaches never stops it: every sample, the full value
      const kept = await ev.evaluate(setting, undefined, { bound: { metric: 'sqnr', below: full.sqnrDb - 0.01 } });
      expect(kept.samples).toBe(6);
      expect(kept.atMost).toBeUndefined();
      expect(kept.sqnrDb).toBeCloseTo(full.sqnrDb, 6);
      // screening: the first samples only, said so
      const screened = await ev.evaluate(setting, undefined, { samples: 2 });
      expect(screened.samples).toBe(2);
    } finally {
      await ctx.release();
    }
  }, 120_000);
});
