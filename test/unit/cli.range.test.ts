/**
 * `quantscope range` computes what onnxruntime's calibrator computes on one tensor given in one call:
 * the symmetric percentile on onnxruntime's own |x| histogram, exactly, for every single-call case of
 * the reference kit; and a 10M-element tensor (past the engine's argument limit for Math.min(...x)).
 */
import { describe, expect, it } from 'vitest';
import { tensorRange } from '../../src/cli/range';
import { concat } from '../helpers/arrays';
import { num, referenceCases, specCalls } from '../helpers/reference';

const base = { dtype: 'uint8', reduceRange: false, convention: 'onnxruntime', bins: 2048 } as const;
const rows = Object.entries(referenceCases()).filter(([, c]) => {
  const e = c.ort.percentile_u8;
  return e && !('error' in e.result) && specCalls(e.spec).length === 1;
});

describe('range --method percentile --symmetric is onnxruntime symmetric percentile', () => {
  it('covers the kit', () => expect(rows.length).toBeGreaterThanOrEqual(15));
  it.each(rows)('%s', (_n, c) => {
    const e = c.ort.percentile_u8!;
    const x = concat(specCalls(e.spec)[0]!);
    const percentile = (e.result.options as { percentile: number }).percentile;
    const r = tensorRange(x, { ...base, method: 'percentile', symmetric: true, percentile });
    expect([r.rmin, r.rmax]).toEqual((e.result.thresholds as unknown[]).map(num));
  });
});

describe('a tensor of ten million elements', () => {
  const n = 10_000_000;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 7919) % 1000) / 100 - 3; // [-3, 6.99]
  x[n - 1] = 12.5;
  x[3] = -7.25;
  it('min-max and the moving average are its extremes', () => {
    for (const method of ['minmax', 'moving-average'] as const) {
      const r = tensorRange(x, { ...base, method, symmetric: false });
      expect([r.rmin, r.rmax]).toEqual([-7.25, 12.5]);
    }
  });
});
