/**
 * The streaming histogram against onnxruntime's HistogramCollector (value histogram, 2048 bins):
 * the grown bin count and edges after every call, and the counts themselves through the mean and
 * standard deviation ORT's distribution method derives from them.
 */
import { describe, expect, it } from 'vitest';
import { histogramRange } from '../../src/core';
import { distribution } from '../../src/core/methods';
import { histogramFromSpec, num, referenceCases } from '../helpers/reference';

const cases = referenceCases();

describe('value histogram matches onnxruntime (distribution config, 2048 bins)', () => {
  const rows = Object.entries(cases)
    .filter(([, c]) => c.ort.distribution)
    .map(([name, c]) => [name, c.ort.distribution!] as const);
  it.each(rows)('%s', (_name, entry) => {
    const r = entry.result;
    if ('error' in r) {
      expect(() => histogramFromSpec(entry.spec)).toThrow(/Infinity/);
      return;
    }
    const h = histogramFromSpec(entry.spec);
    expect(h.counts.length).toBe(r.hist_bins);
    const [lo, hi] = histogramRange(h);
    expect(lo).toBe(num(r.hist_first_edge));
    expect(hi).toBe(num(r.hist_last_edge));
    expect(h.min).toBe(num(r.min));
    expect(h.max).toBe(num(r.max));
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(h.total);
    const { avg, std } = distribution(h);
    const refAvg = num(r.avg);
    const refStd = num(r.std);
    expect(Math.abs(avg - refAvg)).toBeLessThanOrEqual(Math.abs(refAvg) * 1e-6 + 1e-30);
    if (Number.isFinite(refStd)) expect(Math.abs(std - refStd)).toBeLessThanOrEqual(refStd * 1e-5 + 1e-30);
  });
  it('covers grown histograms', () => expect(rows.some(([n]) => n.startsWith('multi_call'))).toBe(true));
});
