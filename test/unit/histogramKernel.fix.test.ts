/**
 * The values the histogram kernel's position estimate puts in the wrong bin (float32 rounding puts a
 * value on an edge, or one ulp beside it, on the other side): found by computing the kernel's float32
 * position here, for many ranges, and binned by the kernel in one batch. Each must land in the bin
 * numpy's rule gives (e_i <= x < e_i+1, the last bin closed): the kernel's check of a noted value
 * against its estimated bin's two edges, before any walk, must keep none of them there. Symmetric
 * ranges (the value histogram) misplace values one ulp below an edge; ranges far from zero (the |x|
 * histogram's [min |x|, max |x|], whose float32 edges drift from their ideal places) also misplace
 * values on an edge, into the bin below.
 */
import { describe, expect, it } from 'vitest';
import { nextF32 } from '../helpers/arrays';
import { binInto, histogramEdges } from '../../src/core';
import { addLanes, binAbsCovered } from '../../src/core/histogramBinning';
import { histogramKernelKind } from '../../src/core/histogramKernel';
import { mulberry32 } from '../../src/core/random';

const f = Math.fround;

/**
 * numpy's bin of x over float32 edges: the last of bins 0..n-1 whose left edge is <= x (0 when none),
 * found by bisection over the non-decreasing edges (a scan of every edge for each value made the |x| test
 * take seconds).
 */
function trueBin(x: number, edges: Float32Array): number {
  let lo = 0; // edges[lo] <= x, or lo = 0
  let hi = edges.length - 1; // bins past the last: edges[hi] is the first candidate ruled out
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The bin the kernel's loop estimates (histogramKernel.wat: (x - lo) * fixedScale + 2^23 in float32, shift 10). */
function estimatedBin(x: number, lo: number, fixedScale: number, n: number): number {
  const v = f(f(f(x - lo) * f(fixedScale)) + 8388608) - 8388608;
  return Math.min(n - 1, Math.max(0, v >> 10));
}

/** The edges' values (and their float32 neighbours) the kernel's estimate puts in another bin than numpy's. */
function misplacedValues(lo: number, hi: number, n: number): number[] {
  const edges = histogramEdges(lo, hi, n);
  const fixedScale = (n / f(hi - lo)) * 1024;
  const out: number[] = [];
  for (let k = 1; k < n; k++)
    for (const x of [edges[k]!, nextF32(edges[k]!, -1), nextF32(edges[k]!, 1)])
      if (x !== 0 && estimatedBin(x, lo, fixedScale, n) !== trueBin(x, edges)) out.push(x);
  return out;
}

describe('the histogram kernel’s edge check', () => {
  it('runs the kernel here', () => expect(histogramKernelKind()).toBe('wasm-simd'));

  it('moves every value the float32 position puts on the wrong side of an edge to numpy’s bin', () => {
    const rand = mulberry32(16);
    const misplaced: { data: number[]; t: number; n: number }[] = [];
    let found = 0;
    for (let trial = 0; trial < 400 && found < 200; trial++) {
      const t = f(10 ** (rand() * 8 - 4));
      const data = misplacedValues(-t, t, 2048);
      if (data.length) misplaced.push({ data, t, n: 2048 });
      found += data.length;
    }
    expect(found).toBeGreaterThan(20); // there are such values to test with
    for (const { data, t, n } of misplaced) {
      const edges = histogramEdges(-t, t, n);
      // each value with seven in-range companions (the kernel's loop bins eight at a time)
      const batch = Float32Array.from(data.flatMap((x) => [x, 0.5 * t, -0.25 * t, 0.1 * t, x, -0.75 * t, 0.3 * t, x]));
      const counts = new Float64Array(n);
      binInto(counts, batch, -t, t);
      const ref = new Float64Array(n);
      for (const x of batch) ref[trueBin(x, edges)]!++;
      expect(Array.from(counts)).toEqual(Array.from(ref));
    }
  });

  it('on |x| edges far from zero: values on an edge estimated into the bin below land in numpy’s bin', () => {
    const rand = mulberry32(17);
    let onEdgeBelow = 0;
    let byKernel = 0;
    for (let trial = 0; trial < 60; trial++) {
      const a = f(10 ** (rand() * 4));
      const lo = a;
      const hi = f(a + f(a * 10 ** (-rand() * 2)));
      const n = trial % 2 ? 128 : 2048;
      const edges = histogramEdges(lo, hi, n);
      const data = misplacedValues(lo, hi, n);
      const edgeValues = new Set(edges);
      onEdgeBelow += data.filter((x) => edgeValues.has(x)).length;
      if (!data.length) continue;
      const batch = Float32Array.from(data.flatMap((x) => [x, lo, hi, x, -x, f((lo + hi) / 2), x, -x]));
      const lanes = binAbsCovered(batch, Float64Array.from(edges));
      if (!lanes) continue; // edges too far from their places for the kernel's window: the JS loop's
      byKernel++;
      const counts = new Float64Array(n);
      addLanes(counts, lanes);
      const ref = new Float64Array(n);
      for (const x of batch) ref[trueBin(Math.abs(x), edges)]!++;
      expect(Array.from(counts)).toEqual(Array.from(ref));
    }
    expect(onEdgeBelow).toBeGreaterThan(20);
    expect(byKernel).toBeGreaterThan(20);
  });
});
