/**
 * The written file is judged in onnxruntime on every held-out sample against the same float outputs:
 * a configuration that met the target on the switchboard but misses it in its file is passed over.
 *
 * An evaluation stopped by a bound (runtime/tune/evaluate.ts EvalBound) is exact: it stops only once
 * the metric cannot reach the bound whatever the remaining samples give, and what it reports as the
 * most the metric could be is never below the value a full evaluation measures.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core/config';
import { encodeModel, exportForm, planQuantization } from '../../src/onnx';
import type { OrtModule } from '../../src/runtime/ort';
import { prepareTuning, rangesFor } from '../../src/runtime/tune/prepare';
import type { Trial, TuneResult } from '../../src/runtime/tune/trial';
import { checkFileRuns, chooseRunnable } from '../../src/runtime/tune/verify';
import { settingFor } from '../../src/runtime/tune/setting';
import { matMulChain, matMulChainSamples } from '../helpers/matMulChain';
import { calibrateOnSamples } from '../helpers/tuneSetup';

const nodeOrt = ort as unknown as OrtModule;
const LAYERS = 6;
const model = matMulChain(LAYERS);
// the held-out samples differ in scale, so that their errors differ and the hardest goes first
const samples = matMulChainSamples(12, 70, (i) => 1 + (i % 4));

describe('evaluations stopped by a bound; the written file judged in onnxruntime', () => {
  it('stop only where the target cannot hold, their upper bound is at least the full value; a file that misses is passed over', async () => {
    const stats = await calibrateOnSamples(model, samples.slice(0, 6));
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
      // a floor (a configuration quantizing no more, measured on every sample): the samples not yet run
      // are taken to lose at least what they lost there, so a bound just above the value stops after one
      // run, where without the floor it needs more; a bound the value reaches is never stopped by it
      const above = { metric: 'sqnr' as const, below: again.sqnrDb + 0.01 };
      let r0 = ev.runs;
      const plain = await ev.evaluate(setting, undefined, { bound: above });
      expect(ev.runs - r0).toBeGreaterThan(1);
      expect(plain.samples).toBeGreaterThan(1);
      r0 = ev.runs;
      const floored = await ev.evaluate(setting, undefined, { bound: above, floor: again });
      expect(ev.runs - r0).toBe(1);
      expect(floored.atMost!).toBeCloseTo(again.sqnrDb, 4);
      const reached = await ev.evaluate(setting, undefined, {
        bound: { metric: 'sqnr', below: again.sqnrDb - 0.01 },
        floor: again,
      });
      expect(reached.samples).toBe(6);
      expect(reached.atMost).toBeUndefined();

      // the written int8 file, judged in onnxruntime: where it misses the target the next one is taken
      const int8 = encodeModel(
        exportForm(model, DEFAULT_CONFIG, {
          plan: planQuantization(model, DEFAULT_CONFIG),
          ranges: rangesFor(stats, model, DEFAULT_CONFIG),
        }).model,
      );
      const floatFile = encodeModel(model);
      const sample = samples[6]!;
      const inFile = (await checkFileRuns(nodeOrt, int8, sample, 'int8.onnx', {
        evaluator: ev,
        target: { metric: 'sqnr', value: 0 },
      }))!;
      expect(inFile.samples).toBe(6);
      expect(Math.abs(inFile.sqnrDb - full.sqnrDb)).toBeLessThan(3); // integer kernels against the switchboard
      const trial = (id: number, bytes: number, tag: string): Trial => ({
        id,
        label: tag,
        config: { ...DEFAULT_CONFIG, excludeNodes: [tag] } as QuantConfig,
        metrics: { ...full, samples: 6 },
        value: 99,
        bytes,
        meets: true,
      });
      const result = (value: number): TuneResult => ({
        target: { metric: 'sqnr', value },
        trials: [trial(0, 500, 'int8'), trial(1, 900, 'float')],
        chosen: 0,
        met: true,
        changes: [],
        elapsedMs: 0,
        runs: 0,
      });
      const build = (c: QuantConfig) => (c.excludeNodes[0] === 'int8' ? int8 : floatFile);
      const missed = await chooseRunnable(nodeOrt, result(inFile.sqnrDb + 1), build, sample, 'tuned.onnx', undefined, {
        evaluator: ev,
        target: { metric: 'sqnr', value: inFile.sqnrDb + 1 },
      });
      expect(missed.trial.id).toBe(1);
      expect(missed.refused.map((r) => r.id)).toEqual([0]);
      expect(missed.refused[0]!.reason).toMatch(/misses output SQNR .* in onnxruntime/);
      const taken = await chooseRunnable(nodeOrt, result(inFile.sqnrDb - 1), build, sample, 'tuned.onnx', undefined, {
        evaluator: ev,
        target: { metric: 'sqnr', value: inFile.sqnrDb - 1 },
      });
      expect(taken.trial.id).toBe(0);
      expect(taken.fileMetrics!.sqnrDb).toBeCloseTo(inFile.sqnrDb, 6);
    } finally {
      await ctx.release();
    }
  }, 120_000);
});
