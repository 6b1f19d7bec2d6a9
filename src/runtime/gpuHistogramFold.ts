/**
 * The calibration fold for a WebGPU session whose outputs stay on the GPU: each sample's tensors are
 * folded into their statistics the way calibrate.ts foldTensor folds them on the CPU (the same
 * min/max merge, per-sample extremes, refusal of NaN/±Inf and the histogram's range growth from
 * core/histogram planHistogramUpdate), with the extremes and the bins computed on the device
 * (gpuHistogram.ts). Tensors onnxruntime hands back on the CPU (empty ones) fold on the CPU.
 * Once ranges settle, a sample costs one submission and one read-back; a sample that grows a range,
 * a second for those tensors.
 *
 * Without a GPU fold (no device), `downloadedFold` reads each output back and folds it on the CPU.
 */
import { QuantscopeError } from '../core/errors';
import { planHistogramUpdate, type HistogramStep } from '../core/histogramPlan';
import { isNonFinite, mergeMinMax } from '../core/minmax';
import { foldTensor, withSample, type StatsMap } from './calibrate';
import { GpuStatistics, type DeviceBinning, type DeviceTensor } from './gpuHistogram';
import type { GpuBuffer, GpuDevice } from './gpuHistogramWebGpu';
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
      if (out.location !== 'gpu-buffer') stats[t] = foldTensor(stats[t]!, t, out.data as Float32Array);
      else if (out.size * 4 <= gpu.maxBindingBytes) onDevice.push(t);
      // larger than one shader binding on this device: read back and folded on the CPU
      else stats[t] = foldTensor(stats[t]!, t, (await out.getData(true)) as Float32Array);
    }
    const device = (t: string): DeviceTensor => ({
      buffer: results[t]!.gpuBuffer as unknown as GpuBuffer,
      count: results[t]!.size,
    });
    try {
      // Each tensor is binned on its current range while its extremes are found (one submission, one
      // read-back): kept when the sample stayed inside it, as it does once the range has settled.
      const guesses = onDevice.map((t): DeviceBinning | null => {
        const { histogram: h, minmax, histogramError } = stats[t]!;
        if (isNonFinite(minmax) || histogramError || h.counts.length === 0 || h.threshold === 0) return null;
        return { tensor: device(t), lo: -h.threshold, hi: h.threshold, bins: h.counts.length };
      });
      const first = await gpu.fold(
        onDevice.map(device),
        guesses.filter((g) => g !== null),
      );
      const guessed = new Map<string, Uint32Array>();
      let at = 0;
      onDevice.forEach((t, k) => guesses[k] && guessed.set(t, first.counts[at++]!));
      const steps: { t: string; step: HistogramStep; counts?: Uint32Array }[] = [];
      onDevice.forEach((t, k) => {
        const before = stats[t]!;
        const mm = first.extremes[k]!;
        const minmax = mergeMinMax(before.minmax, mm);
        stats[t] = { ...before, minmax, ...withSample(before, mm) };
        if (isNonFinite(minmax) || before.histogramError) return;
        try {
          const step = planHistogramUpdate(before.histogram, mm, t);
          if (!('merge' in step)) stats[t] = { ...stats[t]!, histogram: step };
          else {
            const g = guesses[k];
            const same = g && g.lo === step.lo && g.hi === step.hi && g.bins === step.bins;
            steps.push({ t, step, counts: same ? guessed.get(t) : undefined });
          }
        } catch (e) {
          // a range too wide for float32: the histogram is kept and the reason named (as foldTensor does)
          if (!(e instanceof QuantscopeError && e.code === 'NON_FINITE')) throw e;
          stats[t] = { ...stats[t]!, histogramError: e.message };
        }
      });
      // the rest (a first sample, a range that grew) binned on the range the plan gives
      const again = steps.filter((s) => !s.counts);
      const counts = await gpu.histograms(
        again.map(({ t, step }) => ({ tensor: device(t), lo: step.lo, hi: step.hi, bins: step.bins })),
      );
      again.forEach((s, k) => (s.counts = counts[k]!));
      for (const { t, step, counts } of steps) stats[t] = { ...stats[t]!, histogram: step.merge(counts!) };
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
