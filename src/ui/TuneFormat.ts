/** How Tune's metrics read: top-1 agreement in percent, SQNR in dB, a task metric's drop in points. */
import type { Target } from '../state/tuneSlice';
import { formatDb } from './format';

export function formatTuneValue(metric: Target['metric'], v: number, short = false): string {
  if (metric === 'top1') return `${(100 * v).toFixed(short ? 0 : 1)}%`;
  if (metric === 'sqnr') return short ? (Number.isFinite(v) ? v.toFixed(0) : formatDb(v)) : `${formatDb(v)} dB`;
  return `${v >= 0 ? '+' : ''}${(100 * v).toFixed(short ? 0 : 1)} pt`;
}
