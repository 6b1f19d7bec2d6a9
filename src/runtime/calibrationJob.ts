/**
 * One calibration request, start to finish: create the session, stream the samples through it,
 * reply with statistics. The worker runs it over onnxruntime-web; Node (tests, CLI) over
 * onnxruntime-node, through the same code. Replies stop once the request is cancelled.
 */
import { toErrorInfo } from '../core/errors';
import { decodeModel, encodeModel, planCalibrationFetches, withExtraOutputs } from '../onnx';
import { calibrate, type CalibrationOptions } from './calibrate';
import { calibrateInPasses } from './calibrationPasses';
import { webGpuFold } from './gpuHistogramFold';
import { sampleSource } from '../data/samples';
import type { SpawnFoldWorker } from './foldWorker';
import type { OrtModule } from './ort';
import { deviceMemoryGiB, pageMemoryBudget } from './pageMemory';
import { PROGRESS_INTERVAL_MS, type CalibrateRequest, type SessionInfo, type WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';

export async function runCalibrationJob(
  ort: OrtModule,
  info: SessionInfo,
  req: CalibrateRequest,
  queue: SerialQueue,
  signal: AbortSignal,
  emit: (reply: WorkerReply, transfer?: Transferable[]) => void,
  /** A second thread to fold in while the next sample runs (the page: foldWorkerWeb.ts); none: in-thread. */
  foldWorker?: SpawnFoldWorker,
): Promise<void> {
  const post = (m: WorkerReply, transfer?: Transferable[]): void => {
    // After a cancel is acknowledged nothing more is said about that request.
    if (!signal.aborted) emit(m, transfer);
  };
  try {
    const providers = [req.backend];
    // external tensors are kept (by location, offset, length) when their data files come with the request
    const decoded = decodeModel(new Uint8Array(req.model), 'model', undefined, req.externalData ? 'keep' : 'refuse');
    // onnxruntime-web reads each data file (a Blob) itself, matched by the location the .onnx records
    const externalData = req.externalData?.length ? { externalData: [...req.externalData] } : {};
    // WebGPU: the activations stay on the GPU and are folded there (gpuHistogramFold.ts), in the
    // streaming mode; the other modes read them on the CPU
    const onGpu =
      req.backend === 'webgpu' &&
      req.gpuFold !== false &&
      req.mode !== 'onnxruntime-exact' &&
      !req.torchHistograms &&
      !req.chain?.length;
    let foldNote =
      req.backend === 'webgpu' && !onGpu
        ? 'statistics folded on the CPU (' +
          (req.gpuFold === false
            ? 'as asked)'
            : 'the two-pass mode, PyTorch histograms and chained inputs read activations there)')
        : '';
    let gpu: ReturnType<typeof webGpuFold> | null = null;
    const deviceFold: CalibrationOptions['deviceFold'] = onGpu
      ? async (stats, results, tensors) => {
          gpu ??= webGpuFold(ort); // onnxruntime's device exists once its first WebGPU session does
          const { fold, note } = await gpu;
          foldNote = note;
          await fold(stats, results, tensors);
        }
      : undefined;
    const open = (tensors: readonly string[]) =>
      queue.run(() =>
        ort.InferenceSession.create(encodeModel(withExtraOutputs(decoded, tensors)), {
          executionProviders: providers,
          graphOptimizationLevel: 'all',
          ...(onGpu ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
          ...externalData,
        }),
      );
    let inferenceMs = 0;
    const timed = (session: Awaited<ReturnType<typeof open>>) => ({
      outputNames: session.outputNames,
      run: (feeds: Parameters<typeof session.run>[0], fetches: Parameters<typeof session.run>[1]) =>
        queue.run(async () => {
          const t = performance.now();
          const r = await session.run(feeds, fetches);
          inferenceMs += performance.now() - t;
          return r;
        }),
      release: () => queue.run(() => session.release()),
    });
    const multi = req.passes && req.passes.length > 1;
    // One pass on WASM: the run fetches only the tensors the fold cannot recompute from them
    // (onnx/derivedTensors.ts: elementwise tails, recomputed in the fold as onnxruntime's CPU kernels
    // compute them, bit for bit). Not on WebGPU, whose shaders need not round as the CPU does (WGSL's
    // division is within 2.5 ulp); several passes each fetch their own subset.
    const recompute = multi || req.backend === 'webgpu' ? undefined : planCalibrationFetches(decoded, req.tensors);
    // one pass: the session is made before 'started' (a model that does not load fails here)
    const session = multi ? null : timed(await open(recompute?.fetched ?? req.tensors));
    post({ type: 'started', id: req.id, session: info });
    let last = 0;
    const t0 = performance.now();
    const source = sampleSource(req.samples);
    const opts: CalibrationOptions = {
      bins: req.bins,
      mode: req.mode,
      torchHistograms: req.torchHistograms,
      chain: req.chain,
      deviceFold,
      // WASM: the fold overlaps the next run from a nested worker when a second sample's activations
      // fit in half the page's budget (the first sample's run takes the wasm heap's share of it), and
      // a core is left beside onnxruntime's threads (foldWorker.ts, foldWorkerUseless)
      ...(foldWorker && req.backend !== 'webgpu'
        ? {
            foldWorker: {
              spawn: foldWorker,
              spareBytes: pageMemoryBudget(deviceMemoryGiB()) / 2,
              cores: info.hardwareConcurrency,
              ...(req.foldWorkerBesideThreads ? {} : { inferenceThreads: info.numThreads }),
            },
            onFoldPath: (note: string) => (foldNote = note),
          }
        : {}),
      signal,
      recompute,
      onProgress: (done, total) => {
        const now = performance.now();
        if (done === total || done === 1 || now - last >= PROGRESS_INTERVAL_MS) {
          last = now;
          post({ type: 'progress', id: req.id, done, total });
        }
      },
    };
    try {
      // several passes: a session each over its subset of the tensors, the samples run once a pass
      const stats = session
        ? await calibrate(ort, session, source, req.tensors, opts)
        : await calibrateInPasses(ort, async (subset) => timed(await open(subset)), source, req.passes!, opts);
      // The histograms move to the page (transferred, not copied: the page's thread stays free).
      const buffers = Object.values(stats).map((t) => t.histogram.counts.buffer as ArrayBuffer);
      const withFold = foldNote ? { ...info, statisticsFold: foldNote } : info;
      post({ type: 'result', id: req.id, stats, session: withFold, ms: performance.now() - t0, inferenceMs }, buffers);
    } finally {
      await session?.release();
    }
  } catch (e) {
    const err = toErrorInfo(e);
    if (err.code !== 'CANCELLED') post({ type: 'error', id: req.id, error: err });
  }
}
