/**
 * The streaming histogram against onnxruntime's HistogramCollector (value histogram, 2048 bins):
 * the grown bin count and edges after every call, and the counts themselves through the mean and
 * standard deviation ORT's distribution method derives from them.
 */
import { describe, expect, it } from 'vitest';
import { createHistogram, histogramEdges, histogramRange, updateHistogram, type HistogramState } from '../../src/core';
import { num, referenceCases, specCalls } from '../helpers/reference';

const cases = referenceCases();

function build(spec: Record<string, unknown>): HistogramState {
  let h = createHistogram(2048);
  for (const call of specCalls(spec)) {
    // One collect_data() call stacks its batches and bins them together.
    const joined = new Float32Array(call.reduce((n, b) => n + b.length, 0));
    let o = 0;
    for (const b of call) {
      joined.set(b, o);
      o += b.length;
    }
    h = updateHistogram(h, joined);
  }
  return h;
}

function avgStd(h: HistogramState): { avg: number; std: number } {
  const [lo, hi] = histogramRange(h);
  const e = histogramEdges(lo, hi, h.counts.length);
  let s = 0;
  let sv = 0;
  let sv2 = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const v = Math.fround((e[i]! + e[i + 1]!) / 2);
    s += h.counts[i]!;
    sv += h.counts[i]! * v;
    sv2 += h.counts[i]! * Math.fround(v * v); // ORT squares the float32 centers in float32
  }
  const avg = sv / s;
  return { avg, std: Math.sqrt(sv2 / s - avg * avg) };
}

describe('value histogram matches onnxruntime (distribution config, 2048 bins)', () => {
  const rows = Object.entries(cases)
    .filter(([, c]) => c.ort.distribution)
    .map(([name, c]) => [name, c.ort.distribution!] as const);
  it.each(rows)('%s', (_name, entry) => {
    const r = entry.result;
    if ('error' in r) {
      expect(() => build(entry.spec)).toThrow(/Infinity/);
      return;
    }
    const h = build(entry.spec);
    expect(h.counts.length).toBe(r.hist_bins);
    const [lo, hi] = histogramRange(h);
    expect(lo).toBe(num(r.hist_first_edge));
    expect(hi).toBe(num(r.hist_last_edge));
    expect(h.min).toBe(num(r.min));
    expect(h.max).toBe(num(r.max));
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(h.total);
    const { avg, std } = avgStd(h);
    const refAvg = num(r.avg);
    const refStd = num(r.std);
    expect(Math.abs(avg - refAvg)).toBeLessThanOrEqual(Math.abs(refAvg) * 1e-6 + 1e-30);
    if (Number.isFinite(refStd)) expect(Math.abs(std - refStd)).toBeLessThanOrEqual(refStd * 1e-5 + 1e-30);
  });
  it('covers grown histograms', () => expect(rows.some(([n]) => n.startsWith('multi_call'))).toBe(true));
});
