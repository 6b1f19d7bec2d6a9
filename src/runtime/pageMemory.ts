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
 * input shapes bind the symbolic ones; a tensor of unknown shape counts as large as the sample's
 * largest input (the size of a convolutional feature map at the input's resolution), an estimate the
 * refusal says it is.
 */
import { valueInfoShape, type ModelProto } from '../onnx';
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

/**
 * Each calibrated tensor's bytes for one sample: from value_info with the inputs' symbolic dimensions
 * bound by the sample's shapes, else as large as the sample's largest input.
 */
export function activationBytesEstimate(
  model: ModelProto,
  tensors: readonly string[],
  sampleDims: Readonly<Record<string, readonly number[]>>,
): Map<string, number> {
  const g = model.graph!;
  const bound = new Map<string, number>();
  for (const v of g.input) {
    const shape = valueInfoShape(v);
    const dims = sampleDims[v.name];
    shape?.forEach((d, i) => {
      if (typeof d === 'string' && dims?.[i] !== undefined) bound.set(d, dims[i]!);
    });
  }
  const largestInput = Math.max(0, ...Object.values(sampleDims).map((d) => 4 * d.reduce((a, b) => a * b, 1)));
  const infos = new Map([...g.input, ...g.valueInfo, ...g.output].map((v) => [v.name, v]));
  return new Map(
    tensors.map((t) => {
      const v = infos.get(t);
      const shape = v ? valueInfoShape(v) : undefined;
      const dims = shape?.map((d) => (typeof d === 'number' && d > 0 ? d : bound.get(String(d))));
      if (!dims || dims.some((d) => d === undefined)) return [t, largestInput];
      const elem = ELEMENT_BYTES[v!.type?.value.case === 'tensorType' ? (v!.type.value.value.elemType ?? 1) : 1] ?? 4;
      return [t, elem * dims.reduce((a: number, b) => a * b!, 1)];
    }),
  );
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
  return planCalibrationPasses({
    weightBytes,
    weightCopies: opts.weightCopies ?? 2,
    activationBytes: activationBytesEstimate(model, tensors, sampleDims),
    budgetBytes,
    ...(opts.passes ? { passes: opts.passes } : {}),
    ...(opts.advice ? { advice: opts.advice } : {}),
  });
}
