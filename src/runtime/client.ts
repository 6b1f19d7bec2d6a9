/**
 * The page's side of the worker protocol. The worker is created once, on first use, outside any
 * React effect (StrictMode's double effects would otherwise start two).
 */
import { QuantscopeError } from '../core/errors';
import type { GuardVerdict } from '../core/guard';
import type { StatsMap } from './calibrate';
import { sampleBuffers } from '../data/samples';
import type { ComparedSample } from './compareJob';
import type { RoundRequest, RoundingSummary } from './roundJob';
import type {
  Backend,
  CalibrateRequest,
  CompareRequest,
  GuardRequest,
  LatencyResult,
  ProbeRequest,
  ProbeStatus,
  SessionInfo,
  SpeedRequest,
  WorkerReply,
  WorkerRequest,
} from './protocol';

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

type Resolved =
  CalibrationResult | readonly ComparedSample[] | SpeedResult | ProbeResult | GuardVerdict | RoundingSummary;

export interface SpeedResult {
  readonly float: LatencyResult;
  readonly exported: LatencyResult;
}

export interface ProbeResult {
  readonly backend: Backend;
  readonly results: Readonly<Record<string, ProbeStatus>>;
}

interface Pending {
  readonly handlers: CalibrationHandlers;
  resolve(r: Resolved): void;
  reject(e: QuantscopeError): void;
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

function getWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./worker/calibration.worker.ts', import.meta.url), {
    type: 'module',
    name: 'quantscope-calibration',
  });
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
      case 'speed':
        pending.delete(m.id);
        p.resolve({ float: m.float, exported: m.exported });
        break;
      case 'probed':
        pending.delete(m.id);
        p.resolve({ backend: m.backend, results: m.results });
        break;
      case 'guarded':
        pending.delete(m.id);
        p.resolve(m.verdict);
        break;
      case 'rounded':
        pending.delete(m.id);
        p.resolve(m.summary);
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
    pending.set(id, { handlers, resolve: resolve as (r: Resolved) => void, reject }),
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
    pending.set(id, { handlers, resolve: resolve as (r: Resolved) => void, reject }),
  );
  send({ type: 'compare', id, ...req }, [
    req.float,
    ...(req.quantized instanceof Blob ? [] : [req.quantized]),
    ...sampleBuffers(req.samples),
  ]);
  return { id, result };
}

export function cancelCalibration(id: number): void {
  if (pending.has(id)) send({ type: 'cancel', id });
}

/** Latency of the float model and its export on one backend, measured in the worker. */
export function startSpeed(req: Omit<SpeedRequest, 'type' | 'id'>): { id: number; result: Promise<SpeedResult> } {
  const id = nextId++;
  const result = new Promise<SpeedResult>((resolve, reject) =>
    pending.set(id, { handlers: {}, resolve: resolve as (r: Resolved) => void, reject }),
  );
  send({ type: 'speed', id, ...req }, [
    req.float,
    ...(req.exported instanceof Blob ? [] : [req.exported]),
    ...sampleBuffers([req.sample]),
  ]);
  return { id, result };
}

/** Whether a backend runs each of a set of small models by itself (the support table's probe). */
export function startProbe(req: Omit<ProbeRequest, 'type' | 'id'>): { id: number; result: Promise<ProbeResult> } {
  const id = nextId++;
  const result = new Promise<ProbeResult>((resolve, reject) =>
    pending.set(id, { handlers: {}, resolve: resolve as (r: Resolved) => void, reject }),
  );
  // Blobs travel by reference (not transferable, and not copied)
  send(
    { type: 'probe', id, ...req },
    req.models.flatMap((m) => [
      ...(m.bytes instanceof Blob ? [] : [m.bytes]),
      ...(m.sample ? sampleBuffers([m.sample]) : []),
    ]),
  );
  return { id, result };
}

/** The guard rail: float against the export on samples, in the worker. */
export function startGuard(req: Omit<GuardRequest, 'type' | 'id'>): { id: number; result: Promise<GuardVerdict> } {
  const id = nextId++;
  const result = new Promise<GuardVerdict>((resolve, reject) =>
    pending.set(id, { handlers: {}, resolve: resolve as (r: Resolved) => void, reject }),
  );
  send({ type: 'guard', id, ...req }, [
    req.float,
    ...(req.exported instanceof Blob ? [] : [req.exported]),
    ...sampleBuffers(req.samples),
  ]);
  return { id, result };
}

/** GPTQ/AdaRound in the worker: rounded weights by node, with progress and cancel (cancelCalibration). */
export function startRounding(
  req: Omit<RoundRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<RoundingSummary> } {
  const id = nextId++;
  const result = new Promise<RoundingSummary>((resolve, reject) =>
    pending.set(id, { handlers, resolve: resolve as (r: Resolved) => void, reject }),
  );
  send({ type: 'round', id, ...req }, [req.model, ...sampleBuffers(req.samples)]);
  return { id, result };
}
