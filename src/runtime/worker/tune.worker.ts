/**
 * The tune worker: Tune's search (runtime/tuneJob.ts) in a worker of its own, started for one run and
 * ended with it. A Cancel terminates it (workerChannel.ts) instead of only flagging the run: a cancelled
 * run may be inside one long onnxruntime call (the switchboard session's creation on rec takes minutes
 * under load) that no signal interrupts, and the next Tune, queued behind it, would wait at "preparing"
 * until that call returned. A fresh worker has nothing in front of it, and the old one's WASM heap goes.
 */
import { reviveOnnxMessages } from '../../onnx/revive';
import { QuantscopeError, toErrorInfo } from '../../core/errors';
import { loadOrt } from '../ortWeb';
import type { WorkerReply, WorkerRequest } from '../protocol';
import { SerialQueue } from '../serialQueue';
import { runTuneJob } from '../tuneJob';

interface WorkerScope {
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void;
}
const scope = self as unknown as WorkerScope;
const queue = new SerialQueue();
const emit = (m: WorkerReply, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);

scope.addEventListener('message', (e) => {
  const req = reviveOnnxMessages(e.data);
  if (req.type === 'tune') {
    // never aborted here: a cancel ends the whole worker (the page terminates it)
    const signal = new AbortController().signal;
    loadOrt(req.backend === 'cpu' ? 'wasm' : req.backend, import.meta.env.BASE_URL)
      .then((ort) => runTuneJob(ort, req, queue, signal, emit))
      .catch((err: unknown) => emit({ type: 'error', id: req.id, error: toErrorInfo(err) }));
  } else if (req.type !== 'cancel') {
    emit({
      type: 'error',
      id: req.id,
      error: toErrorInfo(new QuantscopeError('RUNTIME', `the tune worker does not run '${req.type}' requests`)),
    });
  }
});
