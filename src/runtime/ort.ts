/**
 * The slice of the onnxruntime API that calibration and evaluation use. onnxruntime-web and
 * onnxruntime-node both implement it (onnxruntime-common's interfaces), so the same code runs in
 * the page's worker, in Node for the CLI and in tests.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { FeedData, Feeds, FeedType } from '../data/feeds';

export type { FeedData, FeedTensor, Feeds, FeedType } from '../data/feeds';

export interface OrtModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  readonly Tensor: new (type: FeedType, data: FeedData, dims: readonly number[]) => Tensor;
}

export type { InferenceSession, Tensor };

export function toOrtFeeds(ort: OrtModule, feeds: Feeds): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = new ort.Tensor(t.type ?? 'float32', t.data, t.dims);
  return out;
}
