/**
 * The model worker: reads, parses and prepares models and builds export files (runtime/modelJob.ts),
 * apart from the calibration worker, so a model loads or exports while a calibration runs, and neither
 * holds the page's thread.
 */
import { reviveOnnxMessages } from '../../onnx/revive';
import { QuantscopeError, toErrorInfo } from '../../core/errors';
import { runExportJob, runModelLoadJob } from '../modelJob';
import { runTfliteExportJob } from '../tfliteExportJob';
import type { WorkerReply, WorkerRequest } from '../protocol';

interface WorkerScope {
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void;
}
const scope = self as unknown as WorkerScope;
const running = new Map<number, AbortController>();
const emit = (m: WorkerReply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

scope.addEventListener('message', (e) => {
  // models in a request crossed a structured clone: their messages get their prototypes back (onnx/revive.ts)
  const req = reviveOnnxMessages(e.data);
  if (req.type === 'load' || req.type === 'export' || req.type === 'tfliteExport') {
    const controller = new AbortController();
    running.set(req.id, controller);
    const job =
      req.type === 'load'
        ? runModelLoadJob(req, controller.signal, emit)
        : req.type === 'export'
          ? runExportJob(req, controller.signal, emit)
          : runTfliteExportJob(req, controller.signal, emit);
    void job.finally(() => running.delete(req.id));
  } else if (req.type === 'cancel') {
    const c = running.get(req.id);
    if (c && !c.signal.aborted) {
      emit({ type: 'cancelled', id: req.id });
      c.abort();
    }
  } else {
    emit({
      type: 'error',
      id: req.id,
      error: toErrorInfo(new QuantscopeError('RUNTIME', `the model worker does not run '${req.type}' requests`)),
    });
  }
});
