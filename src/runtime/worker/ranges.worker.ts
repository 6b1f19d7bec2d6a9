/**
 * The ranges worker: keeps a copy of the calibration statistics and answers, for a configuration,
 * every tensor's range figures (core/calibratedRanges: the same functions the export and the command
 * line use). The page's thread only posts the choices and draws the answer.
 */
import { calibratedMetrics } from '../../core/calibratedRanges';
import { QuantscopeError, toErrorInfo } from '../../core/errors';
import type { StatsMap } from '../calibrate';
import type { RangesReply, RangesRequest } from '../rangesProtocol';

interface WorkerScope {
  postMessage(message: RangesReply): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<RangesRequest>) => void): void;
}
const scope = self as unknown as WorkerScope;
let held: { key: number; stats: StatsMap } | null = null;

scope.addEventListener('message', (e) => {
  const req = e.data;
  if (req.type === 'stats') {
    held = { key: req.key, stats: req.stats };
    return;
  }
  try {
    if (!held || held.key !== req.key)
      throw new QuantscopeError('NO_STATISTICS', 'the ranges worker does not hold these statistics');
    const metrics = calibratedMetrics(held.stats, req.config, (t) => req.producers[t]);
    scope.postMessage({ type: 'metrics', id: req.id, metrics });
  } catch (err) {
    scope.postMessage({ type: 'error', id: req.id, error: toErrorInfo(err) });
  }
});
