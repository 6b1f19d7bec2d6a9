/**
 * One calibration request, start to finish: create the session, stream the samples through it,
 * reply with statistics. The worker runs it over onnxruntime-web; Node (tests, CLI) over
 * onnxruntime-node, through the same code. Replies stop once the request is cancelled.
 */
import { toErrorInfo } from '../core/errors';
import { decodeModel, encodeModel, withExtraOutputs } from '../onnx';
import { calibrate } from './calibrate';
import { materializeSample } from '../data/samples';
import type { OrtModule } from './ort';
import { PROGRESS_INTERVAL_MS, type CalibrateRequest, type SessionInfo, type WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';

export async function runCalibrationJob(
  ort: OrtModule,
  info: SessionInfo,
  req: CalibrateRequest,
  queue: SerialQueue,
  signal: AbortSignal,
  emit: (reply: WorkerReply, transfer?: Transferable[]) => void,
): Promise<void> {
  const post = (m: WorkerReply, transfer?: Transferable[]): void => {
    // After a cancel is acknowledged nothing more is said about that request.
    if (!signal.aborted) emit(m, transfer);
  };
  try {
    const providers = [req.backend];
    const calibrationModel = encodeModel(
      withExtraOutputs(decodeModel(new Uint8Array(req.model), 'model'), req.tensors),
    );
    const session = await queue.run(() =>
      ort.InferenceSession.create(calibrationModel, { executionProviders: providers, graphOptimizationLevel: 'all' }),
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
          feeds: async (i) => materializeSample(req.samples[i]!),
        },
        req.tensors,
        {
          bins: req.bins,
          mode: req.mode,
          torchHistograms: req.torchHistograms,
          chain: req.chain,
          signal,
          onProgress: (done, total) => {
            const now = performance.now();
            if (done === total || done === 1 || now - last >= PROGRESS_INTERVAL_MS) {
              last = now;
              post({ type: 'progress', id: req.id, done, total });
            }
          },
        },
      );
      // The histograms move to the page (transferred, not copied: the page's thread stays free).
      const buffers = Object.values(stats).map((t) => t.histogram.counts.buffer as ArrayBuffer);
      post({ type: 'result', id: req.id, stats, session: info, ms: performance.now() - t0, inferenceMs }, buffers);
    } finally {
      await queue.run(() => session.release());
    }
  } catch (e) {
    const err = toErrorInfo(e);
    if (err.code !== 'CANCELLED') post({ type: 'error', id: req.id, error: err });
  }
}
