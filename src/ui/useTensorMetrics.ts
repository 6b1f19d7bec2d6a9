import { useEffect, useState } from 'react';
import { activationConfigFor, activationRange, type QuantConfig } from '../core/config';
import { absHistogramOf, histogramRangeError } from '../core/methods';
import { absPercentile } from '../core/methods/percentile';
import { isNonFinite } from '../core/minmax';
import type { AppState } from '../state/types';

type StatsMap = NonNullable<AppState['calibration']['stats']>;

export interface TensorMetrics {
  /** SQNR of the tensor's chosen range (estimated on its histogram), dB. */
  readonly sqnrDb: number;
  /** Width of the observed range. */
  readonly width: number;
  /** max|x| over the 99.99th percentile of |x|: how far the extremes sit from the bulk. */
  readonly outlierRatio: number;
}

/**
 * Every tensor's sortable figures under the current choices, computed in slices of at most ~25 ms
 * that yield to the page (an entropy search is ~2 ms a tensor), so the list fills in without a freeze.
 */
export function useTensorMetrics(
  stats: StatsMap | null,
  config: QuantConfig,
  producerOf: (t: string) => string | undefined,
): ReadonlyMap<string, TensorMetrics | null> {
  const [metrics, setMetrics] = useState<{ for: unknown; values: Map<string, TensorMetrics | null> }>({
    for: null,
    values: new Map(),
  });
  useEffect(() => {
    if (!stats) return;
    const names = Object.keys(stats);
    const values = new Map<string, TensorMetrics | null>();
    const key = {};
    let i = 0;
    let timer: ReturnType<typeof setTimeout>;
    const slice = () => {
      const t0 = performance.now();
      while (i < names.length && performance.now() - t0 < 25) {
        const t = names[i++]!;
        const s = stats[t]!;
        if (isNonFinite(s.minmax) || s.minmax.min > s.minmax.max) {
          values.set(t, null);
          continue;
        }
        try {
          const act = activationConfigFor(config, t, producerOf(t));
          const r = activationRange(s, act);
          const err = histogramRangeError(s.histogram, r.rmin, r.rmax, act.dtype, act);
          const amax = Math.max(Math.abs(s.minmax.min), Math.abs(s.minmax.max));
          const bulk = absPercentile(absHistogramOf(s), 99.99);
          values.set(t, {
            sqnrDb: err.sqnrDb,
            width: s.minmax.max - s.minmax.min,
            outlierRatio: bulk > 0 ? amax / bulk : amax > 0 ? Infinity : 1,
          });
        } catch {
          values.set(t, null);
        }
      }
      setMetrics({ for: key, values: new Map(values) });
      if (i < names.length) timer = setTimeout(slice, 0);
    };
    timer = setTimeout(slice, 50);
    return () => clearTimeout(timer);
  }, [stats, config, producerOf]);
  return metrics.values;
}
