/**
 * The page's side of the worker protocol. The worker is created once, on first use, outside any
 * React effect (StrictMode's double effects would otherwise start two).
 */
import { QuantscopeError } from '../core/errors';
import type { StatsMap } from './calibrate';
import { sampleBuffers } from './data/samples';
import type { ComparedSample } from './compareJob';
import type { CalibrateRequest, CompareRequest, SessionInfo, WorkerReply, WorkerRequest } from './protocol';

export interface CalibrationResult {
  readonly stats: StatsMap;
  readonly session: SessionInfo;
  readonly ms: number;
  readonly inferenceMs: number;
}

export interface CalibrationHandlers {
  onStarted?(session: SessionInfo): void;
  onProgress?(done: number, total: number): void;
}

interface Pending {
  readonly handlers: CalibrationHandlers;
  resolve(r: CalibrationResult | readonly ComparedSample[]): void;
  reject(e: QuantscopeError): void;
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

function getWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./worker/calibration.worker.ts', import.meta.url), { type: 'module', name: 'quantscope-calibration' });
  worker.addEventListener('message', (e: MessageEvent<WorkerReply>) => {
    const m = e.data;
    const p = pending.get(m.id);
    if (!p) return;
    switch (m.type) {
      case 'started':
        p.handlers.onStarted?.(m.session);
        break;
      case 'progress':
        p.handlers.onProgress?.(m.done, m.total);
        break;
      case 'result':
        pending.delete(m.id);
        p.resolve({ stats: m.stats, session: m.session, ms: m.ms, inferenceMs: m.inferenceMs });
        break;
      case 'compared':
        pending.delete(m.id);
        p.resolve(m.results);
        break;
      case 'cancelled':
        pending.delete(m.id);
        p.reject(new QuantscopeError('CANCELLED', 'calibration was cancelled'));
        break;
      case 'error':
        pending.delete(m.id);
        p.reject(new QuantscopeError(m.error.code, m.error.message));
        break;
    }
  });
  worker.addEventListener('error', (e) => {
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(new QuantscopeError('RUNTIME', `the calibration worker failed: ${e.message}`));
    }
  });
  return worker;
}

function send(req: WorkerRequest, transfer: Transferable[] = []): void {
  getWorker().postMessage(req, transfer);
}

export function startCalibration(
  req: Omit<CalibrateRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<CalibrationResult> } {
  const id = nextId++;
  const result = new Promise<CalibrationResult>((resolve, reject) =>
    pending.set(id, { handlers, resolve: resolve as (r: CalibrationResult | readonly ComparedSample[]) => void, reject }),
  );
  const transfer = [req.model, ...sampleBuffers(req.samples)];
  send({ type: 'calibrate', id, ...req }, transfer);
  return { id, result };
}

export function startComparison(
  req: Omit<CompareRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<readonly ComparedSample[]> } {
  const id = nextId++;
  const result = new Promise<readonly ComparedSample[]>((resolve, reject) =>
    pending.set(id, { handlers, resolve: resolve as (r: CalibrationResult | readonly ComparedSample[]) => void, reject }),
  );
  send({ type: 'compare', id, ...req }, [req.float, req.quantized, ...sampleBuffers(req.samples)]);
  return { id, result };
}

export function cancelCalibration(id: number): void {
  if (pending.has(id)) send({ type: 'cancel', id });
}
