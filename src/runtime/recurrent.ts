/**
 * Streaming order for recurrent models: where an output is an input one step later (Silero VAD's
 * `stateN` → `state`), each sample's output is fed back as the next sample's input, so calibration
 * and checks see the state a real stream produces instead of the zeros (or noise) each sample carries.
 */
import type { Chain } from '../core/guard';
import type { Feeds, FeedTensor, Tensor } from './ort';

export type { Chain } from '../core/guard';

/** The sample's feeds with the chained inputs replaced by what the previous sample produced. */
export function chainedFeeds(base: Feeds, carried: Readonly<Record<string, FeedTensor>> | null): Feeds {
  return carried ? { ...base, ...carried } : base;
}

/** The chained outputs of one run, copied out (the run's tensors may be disposed), keyed by the input they feed. */
export function carryOver(
  results: Readonly<Record<string, Tensor>>,
  chain: readonly Chain[],
): Record<string, FeedTensor> {
  const out: Record<string, FeedTensor> = {};
  for (const c of chain) {
    const t = results[c.output];
    if (!t || t.type !== 'float32') continue;
    out[c.input] = { type: 'float32', data: Float32Array.from(t.data as Float32Array), dims: [...t.dims] };
  }
  return out;
}

/** The outputs to fetch: the tensors asked for and the chained outputs, each once. */
export function withChainOutputs(tensors: readonly string[], chain: readonly Chain[]): string[] {
  return [...new Set([...tensors, ...chain.map((c) => c.output)])];
}
