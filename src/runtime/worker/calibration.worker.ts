/**
 * The calibration worker: one per page, created once. It owns onnxruntime-web; the page only ever
 * sees statistics. Every session create/run/release goes through one serial queue.
 */
import { QuantscopeError, toErrorInfo } from '../../core/errors';
import { calibrate } from '../calibrate';
import { decodePng, imageToTensor } from '../data/image';
import { loadOrt, sessionInfo } from '../ortWeb';
import { PROGRESS_INTERVAL_MS, type CalibrateRequest, type WorkerReply, type WorkerRequest } from '../protocol';
import { SerialQueue } from '../serialQueue';

interface WorkerScope {
  postMessage(message: WorkerReply): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void;
}
const scope = self as unknown as WorkerScope;
const queue = new SerialQueue();
const running = new Map<number, AbortController>();

async function handleCalibrate(req: CalibrateRequest): Promise<void> {
  const controller = new AbortController();
  running.set(req.id, controller);
  const post = (m: WorkerReply): void => {
    // After a cancel is acknowledged nothing more is said about that request.
    if (!controller.signal.aborted) scope.postMessage(m);
  };
  try {
    const ort = await loadOrt(req.backend, import.meta.env.BASE_URL);
    const info = sessionInfo(ort, req.backend);
    const session = await queue.run(() =>
      ort.InferenceSession.create(new Uint8Array(req.model), { executionProviders: [req.backend], graphOptimizationLevel: 'all' }),
    );
    post({ type: 'started', id: req.id, session: info });
    let last = 0;
    let inferenceMs = 0;
    const t0 = performance.now();
    try {
      const stats = await calibrate(
        ort,
        {
          outputNames: session.outputNames,
          run: (feeds, fetches) =>
            queue.run(async () => {
              const t = performance.now();
              const r = await session.run(feeds, fetches);
              inferenceMs += performance.now() - t;
              return r;
            }),
        },
        {
          count: req.samples.length,
          feeds: async (i) => {
            const s = req.samples[i]!;
            return { [req.inputName]: imageToTensor(decodePng(new Uint8Array(s.bytes), s.name), req.preset) };
          },
        },
        req.tensors,
        {
          bins: req.bins,
          signal: controller.signal,
          onProgress: (done, total) => {
            const now = performance.now();
            if (done === total || done === 1 || now - last >= PROGRESS_INTERVAL_MS) {
              last = now;
              post({ type: 'progress', id: req.id, done, total });
            }
          },
        },
      );
      post({ type: 'result', id: req.id, stats, session: info, ms: performance.now() - t0, inferenceMs });
    } finally {
      await queue.run(() => session.release());
    }
  } catch (e) {
    const info = toErrorInfo(e);
    if (info.code !== 'CANCELLED') post({ type: 'error', id: req.id, error: info });
  } finally {
    running.delete(req.id);
  }
}

scope.addEventListener('message', (e) => {
  const req = e.data;
  if (req.type === 'calibrate') {
    void handleCalibrate(req);
  } else if (req.type === 'cancel') {
    const c = running.get(req.id);
    if (c && !c.signal.aborted) {
      scope.postMessage({ type: 'cancelled', id: req.id });
      c.abort();
    } else if (!c) {
      scope.postMessage({ type: 'error', id: req.id, error: toErrorInfo(new QuantscopeError('CANCELLED', `no calibration ${req.id} is running`)) });
    }
  }
});
