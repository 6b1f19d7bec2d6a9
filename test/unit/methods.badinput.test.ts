/**
 * Bad input for every method variant, through the statistics calibration keeps (the same fold the
 * worker runs): constant, all-zero, single-value, subnormal, 1e-8- and 1e6-wide tensors, ±3e38,
 * NaN and ±Inf, all mass in one bin. Each yields a finite range with a finite error, or a named
 * error; never NaN or a crash. Manual ranges: inverted or non-finite ones are refused, one that
 * excludes zero is widened with a note.
 */
import { describe, expect, it } from 'vitest';
import { quantParams } from '../../src/core/conventions';
import { QuantscopeError } from '../../src/core/errors';
import { checkManualRange, histogramRangeError, methodRange, METHOD_VARIANTS } from '../../src/core/methods';
import { isNonFinite } from '../../src/core/minmax';
import { emptyStats, foldTensor, type TensorStats } from '../../src/runtime/calibrate';
import { referenceCases, specCalls } from '../helpers/reference';

const cases = referenceCases();
const NAMES = [
  'constant_pos',
  'constant_neg',
  'all_zero',
  'single_value',
  'subnormal_1e-39',
  'tiny_1e-8',
  'tiny_pos_1e-8',
  'huge_1e6',
  'huge_mixed',
  'float32_extreme',
  'nan_present',
  'pos_inf_present',
  'neg_inf_present',
  'narrow_far_from_zero',
];

function statsOf(batches: Float32Array[]): TensorStats {
  let s = emptyStats(['t'])['t']!;
  for (const b of batches) s = foldTensor(s, 't', b);
  return s;
}

const inputs: [string, Float32Array[]][] = [
  ...NAMES.map((n) => [n, specCalls(cases[n]!.ort.minmax_u8!.spec).flat()] as [string, Float32Array[]]),
  ['one_bin', [Float32Array.from({ length: 1000 }, (_, i) => (i === 0 ? -1 : 0.5)), Float32Array.of(0.5, 0.5)]],
];

describe('every method on bad tensors: a finite range or a named error', () => {
  it.each(inputs)('%s', (_name, batches) => {
    const s = statsOf(batches);
    if (isNonFinite(s.minmax)) {
      // Product policy: the tensor is named and stays float; no method runs on it.
      expect(s.minmax.nanCount + s.minmax.infCount).toBeGreaterThan(0);
      return;
    }
    for (const v of METHOD_VARIANTS) {
      for (const convention of ['onnxruntime', 'pytorch'] as const) {
        let r;
        try {
          r = methodRange(s, v.method, v.params);
        } catch (e) {
          // two refusals, each coded: a histogram method on a tensor whose span overflows float32
          // (naming the tensor, its min and max), and PyTorch's observer without its own histogram
          expect(e, v.id).toBeInstanceOf(QuantscopeError);
          const q = e as QuantscopeError;
          if (q.code === 'NO_STATISTICS') {
            expect(q.message, v.id).toMatch(/PyTorch's HistogramObserver needs its own histogram/);
            continue;
          }
          expect(s.histogramError, `${v.id} threw without a histogram error: ${q.message}`).toBeDefined();
          expect(q.code, v.id).toBe('NON_FINITE');
          expect(q.message, v.id).toBe(s.histogramError);
          expect(
            q.message.startsWith(`t spans [${s.minmax.min}, ${s.minmax.max}]: the range's width overflows float32`),
          ).toBe(true);
          continue;
        }
        expect(Number.isFinite(r.rmin) && Number.isFinite(r.rmax), `${v.id}: [${r.rmin}, ${r.rmax}]`).toBe(true);
        const p = quantParams(r.rmin, r.rmax, 'uint8', { convention });
        if (!Number.isFinite(p.scale)) continue; // a width past float32: the export keeps it float and says so (qdq report)
        expect(p.scale, v.id).toBeGreaterThan(0);
        const err = histogramRangeError(s.histogram, r.rmin, r.rmax, 'uint8', { convention });
        expect(Number.isNaN(err.mse), v.id).toBe(false);
        expect(Number.isNaN(err.sqnrDb), v.id).toBe(false);
      }
    }
  });

  it('a range too wide for float32 keeps min/max and names why the histogram methods are unavailable', () => {
    const s = statsOf(specCalls(cases.float32_extreme!.ort.minmax_u8!.spec).flat());
    expect(s.histogramError).toMatch(/overflows float32/);
    expect(() => methodRange(s, 'entropy')).toThrow(/overflows float32/);
    expect(methodRange(s, 'minmax').rmax).toBeGreaterThan(1e38);
  });
});

describe('manual ranges', () => {
  it('refuses inverted and non-finite ranges, widens one that excludes zero', () => {
    expect(() => checkManualRange(2, 1)).toThrow(/inverted/);
    expect(() => checkManualRange(NaN, 1)).toThrow(/not finite/);
    expect(() => checkManualRange(0, Infinity)).toThrow(/not finite/);
    const r = checkManualRange(0.5, 3);
    expect(r.range).toEqual({ rmin: 0, rmax: 3 });
    expect(r.note).toMatch(/excludes 0/);
    expect(checkManualRange(-1, 1).note).toBeUndefined();
  });
});
