/**
 * The weight-SQNR guard's math (core/guardWeights.ts): DequantizeLinear-21's three layouts (one scale,
 * one per index along the axis, one per block along it), worked by hand; the verdict is the worst
 * weight against the target and names the worst first.
 */
import { describe, expect, it } from 'vitest';
import { dequantizeWeight, judgeWeights, weightError } from '../../src/core/guardWeights';

describe('weight SQNR guard', () => {
  it('dequantizes per tensor, per axis and per block as DequantizeLinear-21 does', () => {
    expect(Array.from(dequantizeWeight([2, -4], [2], [0.5], [1], 1, 0))).toEqual([0.5, -2.5]);
    // [2, 3] per axis 0: row scales 1 and 10, zero points 0 and 1
    expect(Array.from(dequantizeWeight([1, 2, 3, 1, 2, 3], [2, 3], [1, 10], [0, 1], 0, 0))).toEqual([
      1, 2, 3, 0, 10, 20,
    ]);
    // [2, 4] blocks of 2 along axis 1: scales [2, 2] = [[1, 2], [3, 4]], no zero point
    expect(Array.from(dequantizeWeight([1, 1, 1, 1, 1, 1, 1, 1], [2, 4], [1, 2, 3, 4], null, 1, 2))).toEqual([
      1, 1, 2, 2, 3, 3, 4, 4,
    ]);
    // [4, 2] blocks of 3 along axis 0 (a ragged last block): scales [2, 2] = [[1, 2], [5, 6]]
    expect(Array.from(dequantizeWeight([1, 1, 1, 1, 1, 1, 1, 1], [4, 2], [1, 2, 5, 6], null, 0, 3))).toEqual([
      1, 2, 1, 2, 1, 2, 5, 6,
    ]);
    expect(() => dequantizeWeight([1, 1, 1, 1], [2, 2], [1, 2, 3], null, 0, 0)).toThrow(/do not fit/);
  });

  it('judges the worst weight against the target, exact weights reading Infinity', () => {
    const good = weightError('a', 'n1', [1, 2, 3], [1, 2, 3.01]);
    const exact = weightError('b', 'n2', [1, 2], [1, 2]);
    const bad = weightError('c', 'n3', [1, -1, 1], [0, 0, 0]); // all signal lost: 0 dB
    expect(exact.sqnrDb).toBe(Infinity);
    expect(bad.sqnrDb).toBeCloseTo(0, 9);
    const pass = judgeWeights([good, exact], 20, 'test');
    expect(pass).toMatchObject({ metric: 'weight SQNR', output: 'a', passed: true, target: 20 });
    const fail = judgeWeights([good, bad, exact], 20, 'test');
    expect(fail).toMatchObject({ output: 'c', value: bad.sqnrDb, passed: false });
    expect(fail.worst!.map((w) => w.tensor)).toEqual(['c', 'a', 'b']);
  });
});
