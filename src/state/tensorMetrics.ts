/**
 * The explorer's figures for every tensor under the current choices, computed by the ranges worker
 * (runtime/rangesClient) so that switching a method never holds the page's thread; the same
 * functions (core/calibratedRanges) run in place if the worker fails.
 */
import { calibratedMetrics, type TensorMetrics } from '../core/calibratedRanges';
import type { QuantConfig } from '../core/config';
import type { StatsMap } from '../runtime/calibrate';
import { metricsOffThread } from '../runtime/rangesClient';

export type { TensorMetrics } from '../core/calibratedRanges';

export async function requestTensorMetrics(
  stats: StatsMap,
  config: QuantConfig,
  producerOf: (t: string) => string | undefined,
): Promise<ReadonlyMap<string, TensorMetrics | null>> {
  const producers: Record<string, string> = {};
  for (const t of Object.keys(stats)) {
    const p = producerOf(t);
    if (p) producers[t] = p;
  }
  try {
    return new Map(Object.entries(await metricsOffThread(stats, config, producers)));
  } catch {
    return new Map(Object.entries(calibratedMetrics(stats, config, producerOf)));
  }
}
