/**
 * A sample's recomputed tensors (onnx/derivedTensors.ts plans them; core/elementwiseKernel.ts computes
 * them, in WASM SIMD where it loads), handed to the fold one by one as they are made, wherever the fold
 * runs (this thread or a fold worker), so that the statistics are those of a run that fetched every
 * tensor.
 */
import type { Float32Tensor } from '../core/elementwise';
import { derivedKernelBytes, visitDerivedTensors } from '../core/elementwiseKernel';
import type { DerivedStep } from '../onnx/derivedTensors';

export type { DerivedStep };

/**
 * Each recomputed tensor handed to `visit` as soon as it is made, and each fetched one the steps read
 * as the kernel's copy of it (binned where it lies), each view valid only during its call: the fold
 * takes a sample this way (elementwiseKernel.ts, visitDerivedTensors). Returns the names visited.
 */
export function visitSampleTensors(
  steps: readonly DerivedStep[],
  arrays: Readonly<Record<string, Float32Array>>,
  dims: Readonly<Record<string, readonly number[]>>,
  visit: (name: string, data: Float32Array) => void,
  reuse?: Map<string, Float32Array>,
): Set<string> {
  const visited = new Set<string>();
  visitDerivedTensors(
    steps,
    givenTensors(arrays, dims),
    (name, t) => {
      visited.add(name);
      visit(name, t.data);
    },
    reuse,
  );
  return visited;
}

function givenTensors(
  arrays: Readonly<Record<string, Float32Array>>,
  dims: Readonly<Record<string, readonly number[]>>,
): Record<string, Float32Tensor> {
  const given: Record<string, Float32Tensor> = {};
  for (const [name, data] of Object.entries(arrays)) given[name] = { data, dims: dims[name] ?? [data.length] };
  return given;
}

/**
 * The memory the steps take beside a sample's fetched arrays, from the fetched shapes alone (no value
 * computed): the kernel's, laid out as visitSampleTensors runs them (by liveness).
 */
export function derivedBytes(steps: readonly DerivedStep[], dims: Readonly<Record<string, readonly number[]>>): number {
  return derivedKernelBytes(steps, (name) => dims[name]);
}
