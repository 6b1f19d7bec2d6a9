/**
 * A sample's recomputed tensors (onnx/derivedTensors.ts plans them; core/elementwiseKernel.ts computes
 * them, in WASM SIMD where it loads): added to the fetched arrays before the fold, wherever the fold
 * runs (this thread or a fold worker), so that the statistics are those of a run that fetched every
 * tensor.
 */
import { sizeOf, stepShapes, type Float32Tensor } from '../core/elementwise';
import { deriveTensors } from '../core/elementwiseKernel';
import type { DerivedStep } from '../onnx/derivedTensors';

export type { DerivedStep };

/**
 * The fetched arrays with each step's tensor added (`dims`: the fetched tensors' shapes). The added
 * arrays, and with the kernel the fetched arrays the steps read too (its copies of them are returned in
 * their place, binned where they lie), are only valid until the next call (they live in the kernel's
 * memory, or in `reuse`'s arrays when the kernel is missing): the caller folds a sample before it asks
 * for the next.
 */
export function withDerivedTensors(
  steps: readonly DerivedStep[],
  arrays: Readonly<Record<string, Float32Array>>,
  dims: Readonly<Record<string, readonly number[]>>,
  reuse?: Map<string, Float32Array>,
): Record<string, Float32Array> {
  const given: Record<string, Float32Tensor> = {};
  for (const [name, data] of Object.entries(arrays)) given[name] = { data, dims: dims[name] ?? [data.length] };
  const out: Record<string, Float32Array> = { ...arrays };
  for (const [name, t] of Object.entries(deriveTensors(steps, given, reuse))) out[name] = t.data;
  return out;
}

/** The bytes the steps add to a sample, from the fetched shapes alone (no value computed). */
export function derivedBytes(steps: readonly DerivedStep[], dims: Readonly<Record<string, readonly number[]>>): number {
  let bytes = 0;
  for (const shape of stepShapes(steps, (name) => dims[name]).values()) bytes += 4 * sizeOf(shape);
  return bytes;
}
