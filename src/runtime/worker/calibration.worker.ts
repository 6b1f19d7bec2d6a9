/**
 * The calibration worker: one per page, created once. It owns onnxruntime-web; the page only ever
 * sees statistics. Every session create/run/release goes through one serial queue.
 */
import { reviveOnnxMessages } from '../../onnx/revive';
import { QuantscopeError, toErrorInfo } from '../../core/errors';
import { runCalibrationJob } from '../calibrationJob';
import { runCompareJob } from '../compareJob';
import { runDebugJob, type DebugRequest } from '../debugJob';
import { runSensitivityJob, type SensitivityRequest } from '../sensitivityJob';
import { runGuardJob } from '../guardRun';
import { runOutputsJob } from '../outputsJob';
import { loadOrt, sessionInfo } from '../ortWeb';
import { webFoldWorker } from '../foldWorkerWeb';
import type {
  CalibrateRequest,
  CompareRequest,
  GuardRequest,
  OutputsRequest,
  ProbeRequest,
  SpeedRequest,
  WorkerReply,
  WorkerRequest,
} from '../protocol';
import { runProbeJob, runSpeedJob } from '../speedJob';
import { runRoundJob, type RoundRequest } from '../roundJob';
import { SerialQueue } from '../serialQueue';
import { runAlgorithmsJob, type AlgorithmsRequest } from '../algorithmsJob';

interface WorkerScope {
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void;
}
const scope = self as unknown as WorkerScope;
const queue = new SerialQueue();
const running = new Map<number, AbortController>();

type Emit = (m: WorkerReply, transfer?: Transferable[]) => void;
type WebOrt = Awaited<ReturnType<typeof loadOrt>>;

/** Run one request as a cancellable job on the backend it names; any failure becomes its error reply. */
function runJob(
  req:
    | CalibrateRequest
    | CompareRequest
    | SpeedRequest
    | ProbeRequest
    | GuardRequest
    | OutputsRequest
    | RoundRequest
    | AlgorithmsRequest
    | DebugRequest
    | SensitivityRequest,
  job: (ort: WebOrt, signal: AbortSignal, emit: Emit) => Promise<void>,
): void {
  const controller = new AbortController();
  running.set(req.id, controller);
  const emit: Emit = (m, transfer = []) => scope.postMessage(m, transfer);
  loadOrt(req.backend === 'cpu' ? 'wasm' : req.backend, import.meta.env.BASE_URL)
    .then((ort) => job(ort, controller.signal, emit))
    .catch((err: unknown) => emit({ type: 'error', id: req.id, error: toErrorInfo(err) }))
    .finally(() => running.delete(req.id));
}

scope.addEventListener('message', (e) => {
  // models in a request crossed a structured clone: their messages get their prototypes back (onnx/revive.ts)
  const req = reviveOnnxMessages(e.data);
  if (req.type === 'calibrate') {
    runJob(req, (ort, signal, emit) =>
      runCalibrationJob(ort, sessionInfo(ort, req.backend), req, queue, signal, emit, webFoldWorker()),
    );
  } else if (req.type === 'compare') {
    runJob(req, (ort, signal, emit) => runCompareJob(ort, req, queue, signal, emit));
  } else if (req.type === 'speed') {
    runJob(req, (ort, _signal, emit) => runSpeedJob(ort, req, queue, emit));
  } else if (req.type === 'probe') {
    // the export check of a file with external data runs in a worker of its own (exportCheck.worker.ts)
    runJob(req, (ort, _signal, emit) => runProbeJob(ort, req, queue, emit));
  } else if (req.type === 'guard') {
    runJob(req, (ort, _signal, emit) => runGuardJob(ort, req, queue, emit));
  } else if (req.type === 'outputs') {
    runJob(req, (ort, _signal, emit) => runOutputsJob(ort, req, queue, emit));
  } else if (req.type === 'round') {
    runJob(req, (ort, signal, emit) => runRoundJob(ort, req, queue, signal, emit));
  } else if (req.type === 'algorithms') {
    runJob(req, (ort, signal, emit) => runAlgorithmsJob(ort, req, queue, signal, emit));
  } else if (req.type === 'debug') {
    runJob(req, (ort, signal, emit) => runDebugJob(ort, req, queue, signal, emit));
  } else if (req.type === 'sensitivity') {
    runJob(req, (ort, signal, emit) => runSensitivityJob(ort, req, queue, signal, emit));
  } else if (req.type === 'cancel') {
    const c = running.get(req.id);
    if (c && !c.signal.aborted) {
      scope.postMessage({ type: 'cancelled', id: req.id });
      c.abort();
    } else if (!c) {
      scope.postMessage({
        type: 'error',
        id: req.id,
        error: toErrorInfo(new QuantscopeError('CANCELLED', `no calibration ${req.id} is running`)),
      });
    }
  }
});
