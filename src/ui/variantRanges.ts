// Every method variant's range on one tensor (useVariantRanges), and the colour each variant is drawn in.
import { useEffect, useState } from 'react';
import { toErrorInfo } from '../core/errors';
import { methodRange, METHOD_VARIANTS, type MethodStats } from '../core/methods';
import type { Range } from '../core/methods/percentile';

export const VARIANT_COLOR: Record<string, string> = {
  minmax: '#7a869a',
  'moving-average': '#5b8e7d',
  'moving-average-pytorch': '#8cb369',
  percentile: '#2a9d8f',
  'percentile-two-tailed': '#43aa8b',
  entropy: '#e9a23b',
  'entropy-ort-defaults': '#c9a227',
  'entropy-tensorrt': '#f3722c',
  mse: '#8e5cd9',
};

export interface VariantRange extends Range {
  readonly id: string;
  readonly error?: string;
}

/** Every variant's range on this tensor; the searches (entropy, MSE: ~2 ms each) run after the first frame. */
export function useVariantRanges(stats: MethodStats, percentile: number | undefined): readonly VariantRange[] | null {
  const [out, setOut] = useState<{ for: unknown; ranges: VariantRange[] } | null>(null);
  useEffect(() => {
    const id = setTimeout(() => {
      // PyTorch's HistogramObserver has a row once calibration kept its histogram (a PyTorch preset)
      const shown = METHOD_VARIANTS.filter((v) => v.params.mseHistogram !== 'pytorch' || stats.torchHistogram);
      const ranges = shown.map((v): VariantRange => {
        try {
          return { id: v.id, ...methodRange(stats, v.method, { ...v.params, percentile }) };
        } catch (e) {
          return { id: v.id, rmin: NaN, rmax: NaN, error: toErrorInfo(e).message };
        }
      });
      setOut({ for: stats, ranges });
    }, 16);
    return () => clearTimeout(id);
  }, [stats, percentile]);
  return out?.for === stats ? out.ranges : null;
}
