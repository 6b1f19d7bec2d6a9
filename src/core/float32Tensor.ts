/** A float32 tensor as the recomputed calibration steps hold it (elementwise.ts, copySteps.ts). */

/** A float32 tensor: its values and row-major shape. */
export interface Float32Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** The number of elements of a shape. */
export const sizeOf = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);
