/**
 * The messages between the page and its ranges worker (runtime/worker/ranges.worker.ts), a small
 * worker of its own so that the figures for every tensor under new choices (an entropy or MSE search
 * per tensor) never wait behind, or hold up, a calibration run in the onnxruntime worker.
 */
import type { TensorMetrics } from '../core/calibratedRanges';
import type { QuantConfig } from '../core/config';
import type { ErrorInfo } from '../core/errors';
import type { StatsMap } from './calibrate';

/** The statistics the next requests read (a copy: the page keeps its own). */
export interface RangesStatsMessage {
  readonly type: 'stats';
  readonly key: number;
  readonly stats: StatsMap;
}

export interface RangesMetricsRequest {
  readonly type: 'metrics';
  readonly id: number;
  /** Which statistics (the last `stats` message with this key). */
  readonly key: number;
  readonly config: QuantConfig;
  /** Each tensor's producer op type, for op-type level choices. */
  readonly producers: Readonly<Record<string, string>>;
}

export type RangesRequest = RangesStatsMessage | RangesMetricsRequest;

export type RangesReply =
  | { readonly type: 'metrics'; readonly id: number; readonly metrics: Record<string, TensorMetrics | null> }
  | { readonly type: 'error'; readonly id: number; readonly error: ErrorInfo };
