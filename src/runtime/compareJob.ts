/**
 * Float against quantized on the same samples, in the worker (or Node): both sessions run each
 * sample; per output the error metrics are computed where the tensors are, and outputs small
 * enough to draw (OCR maps and class scores) are sent back whole.
 */
import { toErrorInfo } from '../core/errors';
import { compareTensors, topKAgreement, type ErrorReport, type TopKAgreement } from '../core/metrics';
import { materializeSample } from '../data/samples';
import { toOrtFeeds, type OrtModule, type Tensor } from './ort';
import type { CompareRequest, ExternalDataFile, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';
import { modelBytes } from './speedJob';

/** Outputs up to this many elements travel back to the page. */
export const MAX_RETURNED_ELEMENTS = 4_000_000;

export interface ComparedOutput {
  readonly name: string;
  readonly dims: readonly number[];
  readonly metrics: ErrorReport;
  /** For outputs that look like class scores ([N, C], C >= 2): top-1 equal, and float's top-1 within int8's top-5. */
  readonly topK: TopKAgreement | null;
  readonly float: Float32Array | null;
  readonly quantized: Float32Array | null;
}

export interface ComparedSample {
  readonly name: string;
  readonly outputs: readonly ComparedOutput[];
}

export async function runCompareJob(
  ort: OrtModule,
  req: CompareRequest,
  queue: SerialQueue,
  signal: AbortSignal,
  emit: (m: WorkerReply) => void,
): Promise<void> {
  const post = (m: WorkerReply): void => {
    if (!signal.aborted) emit(m);
  };
  try {
    const providers = [req.backend];
    // a model with external data gets its files by the locations it records (onnxruntime-web's
    // externalData, as calibration and the guard give them): the runtime reads them itself
    const open = async (b: ArrayBuffer | Blob, externalData?: readonly ExternalDataFile[]) => {
      const bytes = await modelBytes(b);
      const options = {
        executionProviders: providers,
        ...(externalData?.length ? { externalData: [...externalData] } : {}),
      };
      return queue.run(() => ort.InferenceSession.create(bytes, options));
    };
    const floatSession = await open(req.float, req.floatExternalData);
    const quantSession = await open(req.quantized, req.quantizedExternalData);
    const results: ComparedSample[] = [];
    try {
      for (let i = 0; i < req.samples.length; i++) {
        if (signal.aborted) return;
        const spec = req.samples[i]!;
        const feeds = toOrtFeeds(ort, materializeSample(spec));
        const a = await queue.run(() => floatSession.run(feeds));
        const b = await queue.run(() => quantSession.run(feeds));
        const outputs: ComparedOutput[] = [];
        for (const name of floatSession.outputNames) {
          const fa = a[name] as Tensor;
          const fb = b[name] as Tensor | undefined;
          if (!fb || fa.type !== 'float32' || fb.type !== 'float32') continue;
          const x = fa.data as Float32Array;
          const y = fb.data as Float32Array;
          const small = x.length <= MAX_RETURNED_ELEMENTS;
          outputs.push({
            name,
            dims: fa.dims,
            metrics: compareTensors(x, y),
            topK: topKAgreement(x, y, fa.dims),
            float: small ? x.slice() : null,
            quantized: small ? y.slice() : null,
          });
        }
        results.push({ name: spec.name, outputs });
        post({ type: 'progress', id: req.id, done: i + 1, total: req.samples.length });
      }
    } finally {
      await queue.run(async () => {
        await floatSession.release();
        await quantSession.release();
      });
    }
    post({ type: 'compared', id: req.id, results });
  } catch (e) {
    post({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
