/**
 * Tune on a static QDQ model with more groups than it ranks by runs (a chain of 40 MatMuls): only the
 * 32 groups worst by their own calibration error are ranked by a run each, the rest follow in that
 * order, and the search still meets its target with a file that loads.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { encodeModel } from '../../src/onnx';
import type { OrtModule } from '../../src/runtime/ort';
import { prepareTuning } from '../../src/runtime/tune/prepare';
import { tune } from '../../src/runtime/tune/search';
import { matMulChain, matMulChainSamples } from '../helpers/matMulChain';
import { calibrateOnSamples } from '../helpers/tuneSetup';

const nodeOrt = ort as unknown as OrtModule;
const LAYERS = 40;
const model = matMulChain(LAYERS);
const samples = matMulChainSamples(12, 40);

describe('tune on a model with many groups', () => {
  it('ranks only the 32 worst groups by runs and still meets the target', async () => {
    const stats = await calibrateOnSamples(model, samples.slice(0, 8));
    const ctx = await prepareTuning(nodeOrt, model, DEFAULT_CONFIG, stats, samples.slice(8), {
      floatBytes: encodeModel(model).length,
    });
    let result;
    try {
      expect(ctx.groups.length).toBeGreaterThan(32);
      result = await tune(ctx, { metric: 'sqnr', value: 40 });
    } finally {
      await ctx.release();
    }
    expect(result.trials[0]!.meets).toBe(false); // int8 everywhere misses 40 dB: the ranking ran
    const rankedByRuns = result.trials.filter((t) => / kept float$/.test(t.label) && !t.label.includes('groups'));
    expect(rankedByRuns.length).toBe(32);
    expect(result.met).toBe(true);
  }, 120_000);
});
