import { describe, expect, it } from 'vitest';
import { createHistogram } from '../../src/core/histogram';
import { updateHistogram } from '../../src/core/histogramFold';
import { sampleDistribution } from '../../src/lab/distributions';
import { smallestAbsBound } from '../../src/lab/lessons/RangeLesson';

const histogramOf = (data: Float32Array) => updateHistogram(createHistogram(2048), data);

describe("the range lesson's 'every value is clipped'", () => {
  it('is 0 where the data reaches 0, however far its ends are', () => {
    // N(0, 1) with an outlier at 12: ±1.2 clips both tails, not every value
    expect(smallestAbsBound(histogramOf(sampleDistribution('outlier', 20000, 3)))).toBe(0);
    expect(smallestAbsBound(histogramOf(sampleDistribution('relu', 20000, 3)))).toBe(0);
  });

  it('is the smallest |x| to a bin where the data stays away from 0', () => {
    // values in [2, 5] and [-5, -3]: every |x| is at least 2; a bin of the 2048 over [-5, 5] is 0.0049 wide
    const data = Float32Array.of(2, 2.5, 3, 5, -3, -4, -5);
    const bound = smallestAbsBound(histogramOf(data));
    expect(bound).toBeLessThanOrEqual(2);
    expect(bound).toBeGreaterThan(2 - 10 / 2048 - 1e-6);
  });
});
