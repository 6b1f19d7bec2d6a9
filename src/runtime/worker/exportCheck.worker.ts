/**
 * The export check's worker, for a file with external data: started for one check (a 'probe' request
 * whose model names data files) and terminated when it answers or fails (workerChannel.ts). It loads
 * onnxruntime-web's JSPI build, which streams each external tensor from its Blob slice into the wasm
 * heap (ortWeb.ts loadOrtStreamingWeights), so no worker ever holds two threaded onnxruntime builds at
 * once (two pthread pools and two wasm heaps in the calibration worker: one test:large page export hung
 * there with the renderer idle), and the check's wasm heap, as large as the export's weights, goes
 * with the worker instead of staying in a long-lived one.
 *
 * A failure outside the job's own promise chain (a script error, a crashed wasm module or pthread, a
 * rejection nobody awaited) would leave the page waiting in silence: it becomes the request's coded
 * error (WORKER_FAILED) here, and an error that escapes anyway reaches the page's 'error' listener.
 */
import { reviveOnnxMessages } from '../../onnx/revive';
import { QuantscopeError, toErrorInfo, type ErrorInfo } from '../../core/errors';
import { loadOrt, loadOrtStreamingWeights } from '../ortWeb';
import type { WorkerReply, WorkerRequest } from '../protocol';
import { SerialQueue } from '../serialQueue';
import { runProbeJob } from '../speedJob';

interface WorkerScope {
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void;
  addEventListener(type: 'error', listener: (e: ErrorEvent) => void): void;
  addEventListener(type: 'unhandledrejection', listener: (e: PromiseRejectionEvent) => void): void;
}
const scope = self as unknown as WorkerScope;
const emit = (m: WorkerReply, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);
/** The check in flight (one per worker): an error outside its promise chain answers it. */
let current: number | null = null;

function fail(error: ErrorInfo): void {
  if (current === null) return;
  emit({ type: 'error', id: current, error });
  current = null;
}

function failed(what: string, reason: unknown): ErrorInfo {
  const message = reason instanceof Error ? reason.message : String(reason);
  return toErrorInfo(new QuantscopeError('WORKER_FAILED', `the export check's worker failed (${what}): ${message}`));
}

scope.addEventListener('error', (e) => fail(failed('an uncaught error', e.error ?? e.message)));
scope.addEventListener('unhandledrejection', (e) => fail(failed('a rejection nobody awaited', e.reason)));

scope.addEventListener('message', (e) => {
  const req = reviveOnnxMessages(e.data);
  if (req.type === 'probe') {
    current = req.id;
    const cpu = req.backend === 'cpu' || req.backend === 'wasm';
    // the JSPI build serves the CPU only; elsewhere (or without JSPI) the backend's usual build
    (
      (cpu ? loadOrtStreamingWeights(import.meta.env.BASE_URL) : null) ??
      loadOrt(cpu ? 'wasm' : req.backend, import.meta.env.BASE_URL)
    )
      .then((ort) =>
        runProbeJob(ort, req, new SerialQueue(), (m) => {
          if (m.id === current) current = null;
          emit(m);
        }),
      )
      .catch((err: unknown) => fail(toErrorInfo(err)));
  } else if (req.type !== 'cancel') {
    emit({
      type: 'error',
      id: req.id,
      error: toErrorInfo(
        new QuantscopeError('RUNTIME', `the export check's worker does not run '${req.type}' requests`),
      ),
    });
  }
});
