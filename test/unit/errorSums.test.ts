/** Running-sum metrics: folding sample by sample equals the metric over the samples concatenated. */
import { describe, expect, it } from 'vitest';
import {
  agreementRate,
  classAxisSize,
  EMPTY_AGREEMENT,
  EMPTY_SUMS,
  foldAgreement,
  foldErrorSums,
  sumsCosine,
  sumsSqnr,
} from '../../src/core/errorSums';
import { cosineSimilarity, sqnr } from '../../src/core/metrics';
import { seededFloats } from '../helpers/sample';

describe('error sums', () => {
  it('SQNR and cosine from sums over chunks equal the whole tensor’s', () => {
    const ref = seededFloats(3000, 1);
    const noise = seededFloats(3000, 2);
    const approx = ref.map((v, i) => v + 0.01 * noise[i]!);
    let s = EMPTY_SUMS;
    for (let k = 0; k < 3000; k += 700) s = foldErrorSums(s, ref.subarray(k, k + 700), approx.subarray(k, k + 700));
    expect(sumsSqnr(s)).toBeCloseTo(sqnr(ref, approx), 9);
    expect(sumsCosine(s)).toBeCloseTo(cosineSimilarity(ref, approx), 12);
    expect(s.count).toBe(3000);
    expect(sumsSqnr(foldErrorSums(EMPTY_SUMS, ref, ref))).toBe(Infinity);
    // a broken approximation reads as one
    expect(sumsSqnr(foldErrorSums(EMPTY_SUMS, ref, noise))).toBeLessThan(3);
  });

  it('top-1 agreement along the class axis of [N, C] and [N, T, C], and none on [N, 1]', () => {
    expect(classAxisSize([1, 35, 6625])).toBe(6625);
    expect(classAxisSize([4, 10])).toBe(10);
    expect(classAxisSize([1, 1])).toBeNull();
    expect(classAxisSize([1, 3, 8, 8])).toBeNull();
    const a = Float32Array.of(0, 1, 5, 2, 0, 0); // rows: argmax 2, then 0 (first maximum)
    const b = Float32Array.of(0, 6, 5, 2, 0, 0);
    const r = foldAgreement(EMPTY_AGREEMENT, a, b, 3);
    expect(r).toEqual({ agree: 1, rows: 2 });
    expect(agreementRate(r)).toBe(0.5);
  });
});
