/** Running-sum metrics: folding sample by sample equals the metric over the samples concatenated. */
import { describe, expect, it } from 'vitest';
import {
  agreementRate,
  classAxisSize,
  EMPTY_AGREEMENT,
  EMPTY_SUMS,
  foldAgreement,
  foldAgreementAll,
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
  it("a row agrees in every run only where each run picks the float model's class", () => {
    const ref = [0.1, 0.9, 0.8, 0.2, 0.3, 0.7]; // 3 rows of 2 classes: 1, 0, 1
    const plain = [0.2, 0.8, 0.6, 0.4, 0.1, 0.9]; // all 3 agree
    const nudged = [0.2, 0.8, 0.4, 0.6, 0.1, 0.9]; // row 1 flips
    expect(agreementRate(foldAgreementAll(EMPTY_AGREEMENT, ref, [plain], 2))).toBe(1);
    const both = foldAgreementAll(EMPTY_AGREEMENT, ref, [plain, nudged], 2);
    expect(both).toEqual({ agree: 2, rows: 3 });
    expect(() => foldAgreementAll(EMPTY_AGREEMENT, ref, [plain.slice(2)], 2)).toThrow(/cannot compare/);
  });
});
