/**
 * The page's side of the worker protocol. The worker is created once, on first use, outside any
 * React effect (StrictMode's double effects would otherwise start two).
 */
import { reviveOnnxMessages } from '../onnx/revive';
import { QuantscopeError } from '../core/errors';
import type { GuardVerdict } from '../core/guard';
import type { StatsMap } from './calibrate';
import { sampleBuffers } from '../data/samples';
import type { ComparedSample } from './compareJob';
import type { RoundRequest, RoundingSummary } from './roundJob';
import type { AlgorithmsRequest, AlgorithmsResult } from './algorithmsJob';
import type { TuneProgress, TuneRequest, TuneSummary } from './tuneJob';
import type { DebugResult } from './debug';
import type { DebugRequest } from './debugJob';
import type { SensitivityReport, SensitivityRequest } from './sensitivityJob';
import type { ExportFile, ExportRequest, LoadRequest, PreparedModelInfo } from './modelJob';
import {
  isReplyTo,
  type Backend,
  type CalibrateRequest,
  type CompareRequest,
  type GuardRequest,
  type JobKind,
  type JobReply,
  type LatencyResult,
  type ProbeRequest,
  type ProbeStatus,
  type ReplyByRequest,
  type RequestOf,
  type SessionInfo,
  type SpeedRequest,
  type WorkerReply,
  type WorkerRequest,
} from './protocol';

export interface CalibrationResult {
  readonly stats: StatsMap;
  readonly session: SessionInfo;
  readonly ms: number;
  readonly inferenceMs: number;
}

export interface CalibrationHandlers {
  onStarted?(session: SessionInfo): void;
  onProgress?(done: number, total: number, stage?: string): void;
  /** A tuning run's phase, trials so far and last metric (with its progress). */
  onTuneProgress?(p: TuneProgress): void;
}

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
  /** Resolves with the completing reply when it answers this request's kind, rejects otherwise. */
  settle(reply: JobReply): void;
  reject(e: QuantscopeError): void;
}

let worker: Worker | undefined;
let modelWorker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();
/** Which worker runs each request in flight (its cancel goes there). */
const ownerOf = new Map<number, Worker>();

function listen(w: Worker, what: string): Worker {
  w.addEventListener('message', (e: MessageEvent<WorkerReply>) => {
    // a loaded model crossed a structured clone: its messages get their prototypes (proto2 defaults) back
    const m = e.data.type === 'loaded' ? reviveOnnxMessages(e.data) : e.data;
    const p = pending.get(m.id);
    if (!p) return;
    switch (m.type) {
      case 'started':
        p.handlers.onStarted?.(m.session);
        break;
      case 'progress':
        p.handlers.onProgress?.(m.done, m.total, m.stage);
        if (m.tune) p.handlers.onTuneProgress?.(m.tune);
        break;
      case 'result':
      case 'compared':
      case 'speed':
      case 'probed':
      case 'guarded':
      case 'rounded':
      case 'tuned':
      case 'algorithmsDone':
      case 'debugged':
      case 'sensitivity-ranked':
      case 'loaded':
      case 'exported':
        pending.delete(m.id);
        ownerOf.delete(m.id);
        p.settle(m);
        break;
      case 'cancelled':
        pending.delete(m.id);
        ownerOf.delete(m.id);
        p.reject(new QuantscopeError('CANCELLED', 'calibration was cancelled'));
        break;
      case 'error':
        pending.delete(m.id);
        ownerOf.delete(m.id);
        p.reject(new QuantscopeError(m.error.code, m.error.message));
        break;
    }
  });
  w.addEventListener('error', (e) => {
    for (const [id, p] of pending) {
      if (ownerOf.get(id) !== w) continue;
      pending.delete(id);
      ownerOf.delete(id);
      p.reject(new QuantscopeError('RUNTIME', `the ${what} worker failed: ${e.message}`));
    }
  });
  return w;
}

function getWorker(): Worker {
  worker ??= listen(
    new Worker(new URL('./worker/calibration.worker.ts', import.meta.url), {
      type: 'module',
      name: 'quantscope-calibration',
    }),
    'calibration',
  );
  return worker;
}

/** Loading and exporting run in a worker of their own: a model loads while another calibrates. */
function getModelWorker(): Worker {
  modelWorker ??= listen(
    new Worker(new URL('./worker/model.worker.ts', import.meta.url), { type: 'module', name: 'quantscope-model' }),
    'model',
  );
  return modelWorker;
}

function send(req: WorkerRequest, transfer: Transferable[] = []): void {
  const w =
    req.type === 'cancel'
      ? (ownerOf.get(req.id) ?? getWorker())
      : req.type === 'load' || req.type === 'export'
        ? getModelWorker()
        : getWorker();
  if (req.type !== 'cancel') ownerOf.set(req.id, w);
  w.postMessage(req, transfer);
}

/**
 * Send one request and wait for the reply that completes it: the request's kind fixes that reply's
 * type (ReplyByRequest), and `answer` turns it into what the caller gets.
 */
function request<K extends JobKind, T>(
  kind: K,
  build: (id: number) => RequestOf<K>,
  transfer: Transferable[],
  answer: (reply: ReplyByRequest[K]) => T,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<T> } {
  const id = nextId++;
  const result = new Promise<T>((resolve, reject) =>
    pending.set(id, {
      handlers,
      reject,
      settle: (reply) =>
        isReplyTo(kind, reply)
          ? resolve(answer(reply))
          : reject(new QuantscopeError('RUNTIME', `the worker answered a '${kind}' request with '${reply.type}'`)),
    }),
  );
  send(build(id), transfer);
  return { id, result };
}

export function startCalibration(
  req: Omit<CalibrateRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<CalibrationResult> } {
  return request(
    'calibrate',
    (id) => ({ type: 'calibrate', id, ...req }),
    [req.model, ...sampleBuffers(req.samples)],
    (m) => ({ stats: m.stats, session: m.session, ms: m.ms, inferenceMs: m.inferenceMs }),
    handlers,
  );
}

export function startComparison(
  req: Omit<CompareRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<readonly ComparedSample[]> } {
  return request(
    'compare',
    (id) => ({ type: 'compare', id, ...req }),
    [req.float, ...(req.quantized instanceof Blob ? [] : [req.quantized]), ...sampleBuffers(req.samples)],
    (m) => m.results,
    handlers,
  );
}

export function cancelCalibration(id: number): void {
  if (pending.has(id)) send({ type: 'cancel', id });
}

/** Latency of the float model and its export on one backend, measured in the worker. */
export function startSpeed(req: Omit<SpeedRequest, 'type' | 'id'>): { id: number; result: Promise<SpeedResult> } {
  return request(
    'speed',
    (id) => ({ type: 'speed', id, ...req }),
    [req.float, ...(req.exported instanceof Blob ? [] : [req.exported]), ...sampleBuffers([req.sample])],
    (m) => ({ float: m.float, exported: m.exported }),
  );
}

/** Whether a backend runs each of a set of small models by itself (the support table's probe). */
export function startProbe(req: Omit<ProbeRequest, 'type' | 'id'>): { id: number; result: Promise<ProbeResult> } {
  return request(
    'probe',
    (id) => ({ type: 'probe', id, ...req }),
    // Blobs travel by reference (not transferable, and not copied)
    req.models.flatMap((m) => [
      ...(m.bytes instanceof Blob ? [] : [m.bytes]),
      ...(m.sample ? sampleBuffers([m.sample]) : []),
    ]),
    (m) => ({ backend: m.backend, results: m.results }),
  );
}

/** The guard rail: float against the export on samples, in the worker. */
export function startGuard(req: Omit<GuardRequest, 'type' | 'id'>): { id: number; result: Promise<GuardVerdict> } {
  return request(
    'guard',
    (id) => ({ type: 'guard', id, ...req }),
    [req.float, ...(req.exported instanceof Blob ? [] : [req.exported]), ...sampleBuffers(req.samples)],
    (m) => m.verdict,
  );
}

/** GPTQ/AdaRound in the worker: rounded weights by node, with progress and cancel (cancelCalibration). */
export function startRounding(
  req: Omit<RoundRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<RoundingSummary> } {
  return request(
    'round',
    (id) => ({ type: 'round', id, ...req }),
    [req.model, ...sampleBuffers(req.samples)],
    (m) => m.summary,
    handlers,
  );
}

/** Tune in the worker (runtime/tuneJob.ts: the command line's engine), with progress and cancel (cancelCalibration). */
export function startTune(
  req: Omit<TuneRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<TuneSummary> } {
  return request(
    'tune',
    (id) => ({ type: 'tune', id, ...req }),
    [req.model, ...sampleBuffers(req.heldOut)],
    (m) => m.summary,
    handlers,
  );
}

/**
 * Read, parse and prepare a model in the worker: the files go as Blobs (never read on the page's
 * thread), the prepared model comes back with its buffers transferred. Stages arrive as progress.
 */
export function startModelLoad(
  req: Omit<LoadRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<PreparedModelInfo> } {
  return request(
    'load',
    (id) => ({ type: 'load', id, ...req }),
    [],
    (m) => m.model,
    handlers,
  );
}

/** Equalization, SmoothQuant, bias correction in the worker (runtime/algorithmsJob.ts), with progress and cancel. */
export function startAlgorithms(
  req: Omit<AlgorithmsRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<AlgorithmsResult> } {
  return request(
    'algorithms',
    (id) => ({ type: 'algorithms', id, ...req }),
    [req.model, ...(req.exported ? [req.exported] : []), ...sampleBuffers(req.samples)],
    (m) => m.result,
    handlers,
  );
}

/** The per-tensor debugger in the worker: float against the export, streamed over samples (cancelCalibration stops it). */
export function startDebug(
  req: Omit<DebugRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<DebugResult> } {
  return request(
    'debug',
    (id) => ({ type: 'debug', id, ...req }),
    [
      req.float,
      ...(req.quantized && !(req.quantized instanceof Blob) ? [req.quantized] : []),
      ...sampleBuffers(req.samples),
    ],
    (m) => m.result,
    handlers,
  );
}

/** Sensitivity in the worker: every group quantized alone and kept float alone (cancelCalibration stops it). */
export function startSensitivity(
  req: Omit<SensitivityRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<SensitivityReport> } {
  return request(
    'sensitivity',
    (id) => ({ type: 'sensitivity', id, ...req }),
    [req.model, ...sampleBuffers(req.samples)],
    (m) => m.report,
    handlers,
  );
}

/** Build an export's file in the worker: it comes back as a Blob of its parts, with its reports. */
export function startExportFile(req: Omit<ExportRequest, 'type' | 'id'>): {
  id: number;
  result: Promise<Omit<ExportFile, 'parts'>>;
} {
  return request(
    'export',
    (id) => ({ type: 'export', id, ...req }),
    [],
    (m) => m.file,
  );
}
