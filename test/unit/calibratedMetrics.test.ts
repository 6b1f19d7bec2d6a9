/**
 * The explorer's figures (core/calibratedRanges calibratedMetrics: what the ranges worker answers):
 * a tensor that stays float has none, the model-level method moves the SQNR the way its range does,
 * and an op-type choice reaches only that op type's outputs.
 */
import { describe, expect, it } from 'vitest';
import { calibratedMetrics } from '../../src/core/calibratedRanges';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core/config';
import { createHistogram } from '../../src/core/histogram';
import { updateHistogram } from '../../src/core/histogramFold';
import type { MethodStats } from '../../src/core/methods';
import { createMinMax, updateMinMax } from '../../src/core/minmax';
import { mulberry32, normalSampler } from '../../src/core/random';

function statsOf(data: Float32Array): MethodStats {
  return { minmax: updateMinMax(createMinMax(), data), histogram: updateHistogram(createHistogram(2048), data) };
}

const n = normalSampler(mulberry32(7));
// a Gaussian with five values at 60: min-max spends its codes on them, entropy clips them
const outliers = statsOf(Float32Array.from({ length: 50_000 }, (_, i) => (i % 10_000 === 0 ? 60 : n())));
const gaussian = statsOf(Float32Array.from({ length: 50_000 }, () => n()));
const withNaN = statsOf(Float32Array.of(1, NaN, 2));

describe('calibratedMetrics', () => {
  it('gives no figures to a tensor that stays float, and the width and outlier ratio of the others', () => {
    const m = calibratedMetrics({ outliers, withNaN });
    expect(m.withNaN).toBeNull();
    expect(m.outliers!.width).toBeCloseTo(outliers.minmax.max - outliers.minmax.min, 6);
    expect(m.outliers!.outlierRatio).toBeGreaterThan(5);
  });

  it('follows the model-level method, and an op-type method only for that op type', () => {
    const entropy: QuantConfig = {
      ...DEFAULT_CONFIG,
      activations: { ...DEFAULT_CONFIG.activations, method: 'entropy' },
    };
    const minmax = calibratedMetrics({ outliers });
    const clipped = calibratedMetrics({ outliers }, entropy);
    expect(Math.abs(clipped.outliers!.sqnrDb - minmax.outliers!.sqnrDb)).toBeGreaterThan(3);
    const byOp: QuantConfig = { ...DEFAULT_CONFIG, opTypes: { Conv: { activations: { method: 'entropy' } } } };
    const producers: Record<string, string> = { outliers: 'Conv', gaussian: 'Relu' };
    const m = calibratedMetrics({ outliers, gaussian }, byOp, (t) => producers[t]);
    expect(m.outliers!.sqnrDb).toBe(clipped.outliers!.sqnrDb);
    expect(m.gaussian!.sqnrDb).toBe(calibratedMetrics({ gaussian }).gaussian!.sqnrDb);
  });
});
