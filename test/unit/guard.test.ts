/** The guard rail's pure parts: which output and metric, the recurrent pairs, the verdict, the split, auto-fix. */
import { describe, expect, it } from 'vitest';
import {
  createTally,
  DEFAULT_GUARD_TARGET,
  describeVerdict,
  foldTally,
  guardSplit,
  hasClassAxis,
  judgeTally,
  recurrentPairs,
} from '../../src/core/guard';
import { constantScalarInputs } from '../../src/data/autoFix';
import type { SampleSpec } from '../../src/data/samples';

describe('the guard rail', () => {
  it('a class axis is the last axis, >= 2 entries, on [N, C] or [N, T, C] only', () => {
    expect(hasClassAxis([1, 10])).toBe(true);
    expect(hasClassAxis([1, 40, 6625])).toBe(true);
    expect(hasClassAxis([1, 1])).toBe(false); // Silero's probability
    expect(hasClassAxis([1, 1, 960, 960])).toBe(false); // a detection map
    expect(hasClassAxis([10])).toBe(false);
  });

  it('recurrent pairs: an output named as an input plus a suffix, same declared shape', () => {
    const inputs = [
      { name: 'input', shape: [null, null] },
      { name: 'state', shape: [2, 'b', 128] },
      { name: 'sr', shape: [] },
    ];
    expect(
      recurrentPairs(inputs, [
        { name: 'output', shape: ['b', 1] },
        { name: 'stateN', shape: [null, null, null] },
      ]),
    ).toEqual([{ output: 'stateN', input: 'state' }]);
    // same name stem, another rank or size: not state
    expect(recurrentPairs(inputs, [{ name: 'stateN', shape: [2, 128] }])).toEqual([]);
    expect(recurrentPairs(inputs, [{ name: 'stateN', shape: [3, 'b', 128] }])).toEqual([]);
    expect(recurrentPairs(inputs, [{ name: 'statement', shape: [2, 'b', 128] }])).toEqual([]);
  });

  it('top-1 agreement along the class axis, judged against 99%', () => {
    const t = createTally('logits');
    const f = Float32Array.from({ length: 100 * 4 }, (_, i) => ((i * 37) % 11) - (i % 4));
    const same = f.slice();
    foldTally(t, f, same, [100, 4]);
    const ok = judgeTally(t, DEFAULT_GUARD_TARGET, '1 held-out sample');
    expect(ok).toMatchObject({ metric: 'top-1 agreement', value: 1, passed: true });
    // two rows of a hundred flipped: 98% < 99%
    const off = f.slice();
    for (const r of [3, 50]) {
      const row = off.subarray(r * 4, r * 4 + 4);
      const arg = row.indexOf(Math.max(...row));
      row[(arg + 1) % 4] = row[arg]! + 1;
    }
    const t2 = createTally('logits');
    foldTally(t2, f, off, [100, 4]);
    const miss = judgeTally(t2, DEFAULT_GUARD_TARGET, '1 held-out sample');
    expect(miss).toMatchObject({ metric: 'top-1 agreement', value: 0.98, passed: false, target: 0.99 });
    expect(describeVerdict(miss)).toBe(
      'top-1 agreement 98.0% on output logits, under the 99.0% target (1 held-out sample)',
    );
  });

  it('output SQNR pooled over samples when there is no class axis, judged against 20 dB', () => {
    const f = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
    const noisy = (eps: number) => f.map((v, i) => v + eps * Math.cos(7 * i));
    const t = createTally('map');
    foldTally(t, f, noisy(0.05), [1, 1, 10, 100]);
    foldTally(t, f, noisy(0.05), [1, 1, 10, 100]);
    const v = judgeTally(t, DEFAULT_GUARD_TARGET, 's');
    expect(v.metric).toBe('output SQNR');
    expect(v.value).toBeCloseTo(26.0, 0); // 10 log10(0.5 / (0.05² · 0.5))
    expect(v.passed).toBe(true);
    const t2 = createTally('map');
    foldTally(t2, f, noisy(0.2), [1, 1, 10, 100]);
    expect(judgeTally(t2, DEFAULT_GUARD_TARGET, 's')).toMatchObject({ passed: false });
  });

  it('without held-out samples, the last fifth of the calibration data (at least one), said so', () => {
    expect(guardSplit(16).indices).toEqual([12, 13, 14, 15]);
    expect(guardSplit(1).indices).toEqual([0]);
    expect(guardSplit(16).source).toMatch(/^the calibration data's last 4 of 16 samples, no held-out samples given/);
  });

  it('fixes a scalar input only when every sample gives it one value, and never over the user', () => {
    const s = (sr: bigint | null): SampleSpec => ({
      name: 's',
      inputs:
        sr === null ? {} : { sr: { kind: 'tensor', tensor: { type: 'int64', data: BigInt64Array.of(sr), dims: [] } } },
    });
    expect(constantScalarInputs([s(16000n), s(16000n)], ['sr'])).toEqual({ sr: 16000 });
    expect(constantScalarInputs([s(16000n), s(8000n)], ['sr'])).toEqual({});
    expect(constantScalarInputs([s(16000n), s(null)], ['sr'])).toEqual({});
    expect(constantScalarInputs([s(16000n)], ['sr'], { sr: 8000 })).toEqual({});
  });
});
