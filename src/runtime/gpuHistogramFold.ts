/**
 * The calibration fold for a WebGPU session whose outputs stay on the GPU: each sample's tensors are
 * folded into their statistics the way calibrate.ts foldTensor folds them on the CPU (the same
 * min/max merge, per-sample extremes, refusal of NaN/±Inf and the histogram's range growth from
 * core/histogram planHistogramUpdate), with the extremes and the bins computed on the device
 * (gpuHistogram.ts). Tensors onnxruntime hands back on the CPU (empty ones) fold on the CPU.
 *
 * Without a GPU fold (no device), `downloadedFold` reads each output back and folds it on the CPU.
 */
import { QuantscopeError } from '../core/errors';
import { planHistogramUpdate, type HistogramStep } from '../core/histogram';
import { isNonFinite, mergeMinMax } from '../core/minmax';
import { foldTensor, withSample, type StatsMap } from './calibrate';
import { GpuStatistics, type DeviceTensor, type GpuBuffer, type GpuDevice } from './gpuHistogram';
import type { Tensor } from './ort';

type Fold = (stats: StatsMap, results: Record<string, Tensor>, tensors: readonly string[]) => Promise<void>;

function checkFloat(t: string, out: Tensor): void {
  if (out.type !== 'float32') throw new QuantscopeError('RUNTIME', `tensor "${t}" is ${out.type}, not float32`);
}

/** A fold over `gpu`: one submission for every tensor's extremes, one for their bins. */
export function gpuFold(gpu: GpuStatistics): Fold {
  return async (stats, results, tensors) => {
    const onDevice: string[] = [];
    for (const t of tensors) {
      const out = results[t] as Tensor;
      checkFloat(t, out);
      if (out.location === 'gpu-buffer') onDevice.push(t);
      else stats[t] = foldTensor(stats[t]!, t, out.data as Float32Array);
    }
    const device = (t: string): DeviceTensor => ({
      buffer: results[t]!.gpuBuffer as unknown as GpuBuffer,
      count: results[t]!.size,
    });
    try {
      const extremes = await gpu.extremes(onDevice.map(device));
      const steps: { t: string; step: HistogramStep }[] = [];
      onDevice.forEach((t, k) => {
        const before = stats[t]!;
        const mm = extremes[k]!;
        const minmax = mergeMinMax(before.minmax, mm);
        stats[t] = { ...before, minmax, ...withSample(before, mm) };
        if (isNonFinite(minmax) || before.histogramError) return;
        try {
          const step = planHistogramUpdate(before.histogram, mm, t);
          if ('merge' in step) steps.push({ t, step });
          else stats[t] = { ...stats[t]!, histogram: step };
        } catch (e) {
          // a range too wide for float32: the histogram is kept and the reason named (as foldTensor does)
          if (!(e instanceof QuantscopeError && e.code === 'NON_FINITE')) throw e;
          stats[t] = { ...stats[t]!, histogramError: e.message };
        }
      });
      const counts = await gpu.histograms(
        steps.map(({ t, step }) => ({ tensor: device(t), lo: step.lo, hi: step.hi, bins: step.bins })),
      );
      steps.forEach(({ t, step }, k) => (stats[t] = { ...stats[t]!, histogram: step.merge(counts[k]!) }));
    } finally {
      for (const t of tensors) results[t]?.dispose?.();
    }
  };
}

/** The CPU fold of outputs that may lie on the GPU: each is read back first. */
export const downloadedFold: Fold = async (stats, results, tensors) => {
  for (const t of tensors) {
    const out = results[t] as Tensor;
    checkFloat(t, out);
    const data = out.location === 'gpu-buffer' ? await out.getData(true) : out.data;
    stats[t] = foldTensor(stats[t]!, t, data as Float32Array);
    out.dispose?.();
  }
};

/**
 * onnxruntime-web's WebGPU device (set once its first WebGPU session exists), or null. `ort.env` is
 * not part of the OrtModule slice the rest of the runtime uses, so it is read loosely here.
 */
export async function ortWebGpuDevice(ort: unknown): Promise<GpuDevice | null> {
  const env = (ort as { env?: { webgpu?: { device?: unknown } } }).env;
  try {
    const device = await Promise.resolve(env?.webgpu?.device);
    return device && typeof (device as GpuDevice).createComputePipeline === 'function' ? (device as GpuDevice) : null;
  } catch {
    return null;
  }
}

/**
 * The fold a WebGPU calibration uses, and a note saying where its statistics were computed: on the
 * GPU, or on the CPU and why.
 */
export async function webGpuFold(ort: unknown): Promise<{ fold: Fold; note: string }> {
  const device = await ortWebGpuDevice(ort);
  if (!device)
    return { fold: downloadedFold, note: 'statistics folded on the CPU (no WebGPU device from onnxruntime)' };
  try {
    const gpu = await GpuStatistics.create(device);
    return { fold: gpuFold(gpu), note: 'statistics folded on the GPU' };
  } catch (e) {
    return { fold: downloadedFold, note: `statistics folded on the CPU (${(e as Error).message})` };
  }
}
