/**
 * The page's side of the ranges worker (runtime/worker/ranges.worker.ts): every tensor's figures
 * under a configuration, computed off the page's thread. The statistics are copied to the worker
 * once per calibration result (the first request for them); later requests send only the choices.
 * Where no Worker exists (Node, tests) the same functions run in place.
 */
import { calibratedMetrics, type TensorMetrics } from '../core/calibratedRanges';
import type { QuantConfig } from '../core/config';
import { QuantscopeError } from '../core/errors';
import type { StatsMap } from './calibrate';
import type { RangesReply, RangesRequest } from './rangesProtocol';

type Metrics = Record<string, TensorMetrics | null>;

let worker: Worker | undefined;
let nextId = 1;
let nextKey = 1;
let sent: { stats: StatsMap; key: number } | null = null;
const pending = new Map<number, { resolve(m: Metrics): void; reject(e: QuantscopeError): void }>();

function getWorker(): Worker | null {
  if (worker) return worker;
  if (typeof Worker === 'undefined') return null;
  worker = new Worker(new URL('./worker/ranges.worker.ts', import.meta.url), {
    type: 'module',
    name: 'quantscope-ranges',
  });
  worker.addEventListener('message', (e: MessageEvent<RangesReply>) => {
    const m = e.data;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.type === 'metrics') p.resolve(m.metrics);
    else p.reject(new QuantscopeError(m.error.code, m.error.message));
  });
  worker.addEventListener('error', (e) => {
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(new QuantscopeError('RUNTIME', `the ranges worker failed: ${e.message}`));
    }
  });
  return worker;
}

function post(w: Worker, m: RangesRequest): void {
  w.postMessage(m);
}

/** Every tensor's figures under `config`, from the ranges worker. */
export function metricsOffThread(
  stats: StatsMap,
  config: QuantConfig,
  producers: Readonly<Record<string, string>>,
): Promise<Metrics> {
  const w = getWorker();
  if (!w) return Promise.resolve(calibratedMetrics(stats, config, (t) => producers[t]));
  if (sent?.stats !== stats) {
    sent = { stats, key: nextKey++ };
    post(w, { type: 'stats', key: sent.key, stats });
  }
  const id = nextId++;
  const key = sent.key;
  return new Promise<Metrics>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    post(w, { type: 'metrics', id, key, config, producers });
  });
}
