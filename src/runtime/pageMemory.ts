/**
 * Whether a calibration fits in this browser, estimated before it starts (runtime/calibrationPasses'
 * planCalibrationPasses does the arithmetic): the weights twice (the bytes sent, and onnxruntime's
 * copy in the wasm heap) and every calibrated tensor of one sample, against what the page can use:
 * WebAssembly's 4 GiB (wasm32 addresses), or less where the device reports less memory
 * (navigator.deviceMemory, GiB, rounded down by the browser and capped at 8). Past it, the tensors
 * are split into passes; when even one tensor cannot fit, the run is refused in words with the
 * numbers, before anything is allocated, and the page stays as it was.
 *
 * Tensor sizes come from the graph's value_info where every dimension is known once the sample's
 * input shapes bind the symbolic ones, else from shape inference over the graph (onnx/shapeInference.ts);
 * a tensor of a shape neither gives counts as large as the sample's largest input (the size of a
 * convolutional feature map at the input's resolution), and the note or refusal says so.
 */
import { QuantscopeError, isQuantscopeError } from '../core/errors';
import { inferShapes, type ModelProto } from '../onnx';
import { planCalibrationPasses, type CalibrationMemoryPlan } from './calibrationPasses';

/** wasm32 addresses 4 GiB; the runtime's own code, stack and the page's buffers need some of it. */
export const WASM_MEMORY_BYTES = 4 * 1024 ** 3;
const RESERVED_BYTES = 256 * 1024 ** 2;

/** What a calibration in this page may use: the wasm heap, or the device's memory when it reports less. */
export function pageMemoryBudget(deviceMemoryGiB?: number): number {
  const wasm = WASM_MEMORY_BYTES - RESERVED_BYTES;
  return deviceMemoryGiB && deviceMemoryGiB > 0 ? Math.min(wasm, deviceMemoryGiB * 1024 ** 3) : wasm;
}

/** navigator.deviceMemory where the browser reports it (Chromium: GiB, capped at 8), else undefined. */
export function deviceMemoryGiB(): number | undefined {
  return typeof navigator === 'undefined' ? undefined : (navigator as { deviceMemory?: number }).deviceMemory;
}

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 16: 2 };

export interface ActivationEstimate {
  /** Each calibrated tensor's bytes for one sample. */
  readonly bytes: Map<string, number>;
  /** The tensors whose shape neither value_info nor shape inference gave: counted as the largest input. */
  readonly assumed: readonly string[];
  /** The sample's largest input in bytes (as float32), what each assumed tensor counts as. */
  readonly largestInputBytes: number;
}

/**
 * Each calibrated tensor's bytes for one sample: its shape from value_info with the inputs' symbolic
 * dimensions bound by the sample's shapes, or inferred through the graph from them
 * (onnx/shapeInference.ts: a decoder fed token ids [1, T] has its [1, T, D] activations sized so, not
 * as its int64 ids), else (an operator the inference does not cover) as large as the sample's largest
 * input, and listed as assumed.
 */
export function activationEstimate(
  model: ModelProto,
  tensors: readonly string[],
  sampleDims: Readonly<Record<string, readonly number[]>>,
): ActivationEstimate {
  const shapes = inferShapes(model.graph!, sampleDims);
  const largestInputBytes = Math.max(0, ...Object.values(sampleDims).map((d) => 4 * d.reduce((a, b) => a * b, 1)));
  const assumed: string[] = [];
  const bytes = new Map(
    tensors.map((t) => {
      const s = shapes.get(t);
      if (!s) {
        assumed.push(t);
        return [t, largestInputBytes];
      }
      return [t, (ELEMENT_BYTES[s.elemType] ?? 4) * s.dims.reduce((a, b) => a * b, 1)];
    }),
  );
  return { bytes, assumed, largestInputBytes };
}

/** activationEstimate's bytes alone. */
export function activationBytesEstimate(
  model: ModelProto,
  tensors: readonly string[],
  sampleDims: Readonly<Record<string, readonly number[]>>,
): Map<string, number> {
  return activationEstimate(model, tensors, sampleDims).bytes;
}

/** The estimate's assumption in words (empty when every shape was known or inferred). */
export function assumedShapesNote(e: ActivationEstimate): string {
  if (!e.assumed.length) return '';
  const b = e.largestInputBytes;
  const size = b >= 1024 ** 2 ? `${(b / 1024 ** 2).toFixed(1)} MiB` : `${b} bytes`;
  const some = e.assumed.slice(0, 3).join(', ') + (e.assumed.length > 3 ? ` and ${e.assumed.length - 3} more` : '');
  return `${e.assumed.length} of the tensors (${some}) have a shape neither the model's value_info nor shape inference gives: the estimate assumed each as large as the largest input (${size})`;
}

/**
 * The plan for calibrating `tensors` of `model` in this page: passes, or a MODEL_TOO_LARGE refusal
 * (thrown). The command line calls it too (cli/calibration.ts) with its own copies, budget and advice.
 */
export function planPageCalibration(
  model: ModelProto,
  weightBytes: number,
  tensors: readonly string[],
  sampleDims: Readonly<Record<string, readonly number[]>>,
  budgetBytes: number,
  opts: { readonly weightCopies?: number; readonly passes?: number; readonly advice?: string } = {},
): CalibrationMemoryPlan {
  const estimate = activationEstimate(model, tensors, sampleDims);
  const assumption = assumedShapesNote(estimate);
  try {
    const plan = planCalibrationPasses({
      weightBytes,
      weightCopies: opts.weightCopies ?? 2,
      activationBytes: estimate.bytes,
      budgetBytes,
      ...(opts.passes ? { passes: opts.passes } : {}),
      ...(opts.advice ? { advice: opts.advice } : {}),
    });
    // the passes were planned on assumed sizes: say so with them
    return plan.note && assumption ? { ...plan, note: `${plan.note} (${assumption})` } : plan;
  } catch (e) {
    if (assumption && isQuantscopeError(e)) throw new QuantscopeError(e.code, `${e.message} (${assumption})`);
    throw e;
  }
}
