import { useEffect, useState } from 'react';
import type { QuantConfig } from '../core/config';
import { requestTensorMetrics, type TensorMetrics } from '../state/tensorMetrics';
import type { AppState } from '../state/types';

type StatsMap = NonNullable<AppState['calibration']['stats']>;

export type { TensorMetrics } from '../state/tensorMetrics';

/**
 * Every tensor's sortable figures under the current choices, computed by the ranges worker (an
 * entropy search is ~1 ms a tensor, all of det's ~0.3 s): the page's thread never runs them, and the
 * list keeps showing the previous figures until the new ones arrive.
 */
export function useTensorMetrics(
  stats: StatsMap | null,
  config: QuantConfig,
  producerOf: (t: string) => string | undefined,
): ReadonlyMap<string, TensorMetrics | null> {
  const [metrics, setMetrics] = useState<ReadonlyMap<string, TensorMetrics | null>>(new Map());
  useEffect(() => {
    if (!stats) return;
    let live = true;
    // posted in a task of its own: cloning every histogram for the worker is no small part of a frame
    const id = setTimeout(
      () =>
        void requestTensorMetrics(stats, config, producerOf).then((m) => {
          if (live) setMetrics(m);
        }),
      0,
    );
    return () => {
      live = false;
      clearTimeout(id);
    };
  }, [stats, config, producerOf]);
  return metrics;
}
