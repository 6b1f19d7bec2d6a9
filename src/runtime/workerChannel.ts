/**
 * The page's channel to its workers: the two long-lived workers (calibration, and model
 * loading/export), created once on first use outside any React effect (StrictMode's double effects
 * would otherwise start two), a tune worker started for each Tune run and ended with it (a cancel
 * terminates it: see worker/tune.worker.ts), a worker for each export check of a file with external data
 * (worker/exportCheck.worker.ts), ended when it answers, the requests in flight and their replies, and cancel.
 * client.ts's start* functions send through `request`.
 */
import { reviveOnnxMessages } from '../onnx/revive';
import { QuantscopeError } from '../core/errors';
import type { TuneProgress } from './tuneJob';
import {
  isReplyTo,
  type JobKind,
  type JobReply,
  type ReplyByRequest,
  type RequestOf,
  type SessionInfo,
  type WorkerReply,
  type WorkerRequest,
} from './protocol';

export interface CalibrationHandlers {
  onStarted?(session: SessionInfo): void;
  onProgress?(done: number, total: number, stage?: string): void;
  /** A tuning run's phase, trials so far and last metric (with its progress). */
  onTuneProgress?(p: TuneProgress): void;
}

interface Pending {
  readonly handlers: CalibrationHandlers;
  /** Resolves with the completing reply when it answers this request's kind, rejects otherwise. */
  settle(reply: JobReply): void;
  reject(e: QuantscopeError): void;
}

let worker: Worker | undefined;
let modelWorker: Worker | undefined;
/** The tune worker of the run in flight, if any: one run at a time (the page's Tune is off meanwhile). */
let tuneWorker: Worker | undefined;
/** The export checks' workers, one per check in flight, each ended when its check answers or fails. */
const checkWorkers = new Set<Worker>();
/** Each check worker's stall timer, and how to fail its requests (listen's failAll). */
const checkTimers = new Map<Worker, ReturnType<typeof setTimeout>>();
const failers = new Map<Worker, (why: string, code?: 'WORKER_FAILED' | 'CHECK_STALLED') => void>();
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
      case 'outputsDone':
      case 'rounded':
      case 'tuned':
      case 'loaded':
        // the model was revived in this task; the page renders it in the next (together they made
        // one 58 ms task on the page's thread as a model arrived)
        pending.delete(m.id);
        ownerOf.delete(m.id);
        setTimeout(() => p.settle(m), 0);
        break;
      case 'algorithmsDone':
      case 'debugged':
      case 'sensitivity-ranked':
      case 'exported':
      case 'tfliteExported':
        pending.delete(m.id);
        ownerOf.delete(m.id);
        p.settle(m);
        if (w === tuneWorker) endTuneWorker(); // its one run answered: its WASM heap goes with it
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
        if (w === tuneWorker) endTuneWorker();
        break;
    }
    if (checkWorkers.has(w) && !ownsRequests(w)) endCheckWorker(w);
  });
  // an error no job caught (a script error, a crashed wasm module) or a reply that cannot be read: its
  // requests fail with a coded error rather than wait for a reply that will not come
  const failAll = (why: string, code: 'WORKER_FAILED' | 'CHECK_STALLED' = 'WORKER_FAILED') => {
    for (const [id, p] of pending) {
      if (ownerOf.get(id) !== w) continue;
      pending.delete(id);
      ownerOf.delete(id);
      p.reject(new QuantscopeError(code, `the ${what} worker failed: ${why}`));
    }
    if (checkWorkers.has(w)) endCheckWorker(w);
  };
  failers.set(w, failAll);
  w.addEventListener('error', (e) => failAll(e.message || 'it did not start, or stopped without saying why'));
  w.addEventListener('messageerror', () => failAll('its reply could not be read'));
  return w;
}

function ownsRequests(w: Worker): boolean {
  for (const owner of ownerOf.values()) if (owner === w) return true;
  return false;
}

/** A fresh worker for one export check of a file with external data (worker/exportCheck.worker.ts). */
function newCheckWorker(): Worker {
  const w = listen(
    new Worker(new URL('./worker/exportCheck.worker.ts', import.meta.url), {
      type: 'module',
      name: 'quantscope-export-check',
    }),
    'export check',
  );
  checkWorkers.add(w);
  return w;
}

/** Terminate an export check's worker: its onnxruntime build and wasm heap go with it. */
function endCheckWorker(w: Worker): void {
  checkWorkers.delete(w);
  clearTimeout(checkTimers.get(w));
  checkTimers.delete(w);
  failers.delete(w);
  w.terminate();
}

/**
 * How long an export check may go without answering before its worker is ended (CHECK_STALLED): a
 * minute, plus a minute a GB of the files it loads. A check loads the file and runs it once, seconds
 * for the 2.55 GB decoder's q4 file; test:large saw its worker park for good (every thread on a futex,
 * no error to report) in about one run in five, whatever its thread count.
 */
export function checkStallMs(req: WorkerRequest): number {
  if (req.type !== 'probe') return 60_000;
  let bytes = 0;
  for (const m of req.models) {
    bytes += m.bytes instanceof Blob ? m.bytes.size : (m.bytes as ArrayBuffer).byteLength;
    for (const d of m.externalData ?? []) bytes += d.data instanceof Blob ? d.data.size : 0;
  }
  return 60_000 + 60_000 * (bytes / 1e9);
}

/** The export check of a file with external data: the JSPI build that streams its weights, in a worker of its own. */
function isExternalDataCheck(req: WorkerRequest): boolean {
  return req.type === 'probe' && req.models.some((m) => (m.externalData?.length ?? 0) > 0);
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

/** A fresh worker for a Tune run: whatever a cancelled run left running there cannot delay this one. */
function newTuneWorker(): Worker {
  endTuneWorker();
  tuneWorker = listen(
    new Worker(new URL('./worker/tune.worker.ts', import.meta.url), { type: 'module', name: 'quantscope-tune' }),
    'tune',
  );
  return tuneWorker;
}

/** Terminate the tune worker (cancelled, or its run answered); its requests still pending are cancelled. */
function endTuneWorker(): void {
  const w = tuneWorker;
  if (!w) return;
  tuneWorker = undefined;
  w.terminate();
  for (const [id, p] of pending) {
    if (ownerOf.get(id) !== w) continue;
    pending.delete(id);
    ownerOf.delete(id);
    p.reject(new QuantscopeError('CANCELLED', 'tuning was cancelled'));
  }
}

function send(req: WorkerRequest, transfer: Transferable[] = []): void {
  if (req.type === 'cancel' && tuneWorker !== undefined && ownerOf.get(req.id) === tuneWorker) {
    // a flag would wait for the run's next check, which a session being created never reaches: end it now
    endTuneWorker();
    return;
  }
  const w =
    req.type === 'cancel'
      ? (ownerOf.get(req.id) ?? getWorker())
      : req.type === 'load' || req.type === 'export' || req.type === 'tfliteExport'
        ? getModelWorker()
        : req.type === 'tune'
          ? newTuneWorker()
          : isExternalDataCheck(req)
            ? newCheckWorker()
            : getWorker();
  if (req.type !== 'cancel') ownerOf.set(req.id, w);
  if (req.type !== 'cancel' && checkWorkers.has(w)) {
    const ms = checkStallMs(req);
    checkTimers.set(
      w,
      setTimeout(() => failers.get(w)?.(`it did not answer in ${Math.round(ms / 1000)} s`, 'CHECK_STALLED'), ms),
    );
  }
  w.postMessage(req, transfer);
}

/**
 * Send one request and wait for the reply that completes it: the request's kind fixes that reply's
 * type (ReplyByRequest), and `answer` turns it into what the caller gets.
 */
export function request<K extends JobKind, T>(
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

export function cancelCalibration(id: number): void {
  if (pending.has(id)) send({ type: 'cancel', id });
}
