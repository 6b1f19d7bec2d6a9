/**
 * Calibration-method figures (issue "Every calibration method"):
 *   methods_all_tensors_ms        every method variant for every activation of PP-OCRv4 det, from kept statistics (target < 100)
 *   methods_<variant>_all_tensors_ms  the same, per variant (cpu_ms beside; range_error_cpu_ms: the histogramRangeError part;
 *                                 fastest_ms: the fastest of its three passes, the median being the figure)
 *   entropy_2048_bins_ms          onnxruntime's entropy search on one 2048-bin histogram (fast), and the exhaustive one
 *   histogram_throughput_ratio    elements/s binning inside a known range, over a plain loop that only reads the values
 *   torch_histogram_observer_call_ms  one PyTorch HistogramObserver call (histc + upsample-and-combine) on 4M values
 */
import * as ort from 'onnxruntime-node';
import { activationConfigFor } from '../src/core/config';
import { createHistogram } from '../src/core/histogram';
import { updateHistogram, updateHistogramInRange } from '../src/core/histogramFold';
import { forceHistogramKernel, histogramKernelKind } from '../src/core/histogramKernel';
import {
  entropyRangeOrt,
  entropyRangeOrtExhaustive,
  histogramRangeError,
  methodRange,
  METHOD_VARIANTS,
} from '../src/core/methods';
import { mulberry32, normalSampler } from '../src/core/random';
import { createTorchHistogram, observeTorchHistogram } from '../src/core/torchHistogram';
import { DEFAULT_CONFIG } from '../src/core';
import { encodeModel, withExtraOutputs } from '../src/onnx';
import { calibrate } from '../src/runtime/calibrate';
import type { OrtModule } from '../src/runtime/ort';
import { loadModelSync } from '../src/state/modelSlice';
import { docFeeds, ocrModel } from '../test/helpers/sample';
import { median } from '../src/core/metrics';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;

export async function benchMethods(emit: Emit, samples = 2): Promise<void> {
  const m = loadModelSync('ch_PP-OCRv4_det_infer.onnx', ocrModel('det'), true);
  const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(m.prepared, m.plan.activations)));
  const stats = await calibrate(
    ort as unknown as OrtModule,
    session,
    { count: samples, feeds: async (i) => docFeeds(i) },
    m.plan.activations,
    { torchHistograms: true }, // the HistogramObserver variant runs on its own histogram
  );
  await session.release();
  const names = Object.keys(stats).filter((t) => stats[t]!.minmax.nanCount + stats[t]!.minmax.infCount === 0);
  const act = activationConfigFor(DEFAULT_CONFIG, names[0]!);
  let total = 0;
  let totalCpu = 0;
  let totalError = 0;
  let totalFastest = 0;
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  // Each variant: every tensor's range, then what each range costs on its histogram (histogramRangeError,
  // the figure the page shows beside it), timed apart so that the error's share is printed too.
  // Nothing is cached between runs or variants (no memo keyed on the statistics): every run is cold.
  const ranges: { rmin: number; rmax: number }[] = new Array(names.length);
  for (const v of METHOD_VARIANTS) {
    const runs: number[] = [];
    const cpu: number[] = [];
    const errorCpu: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const c0 = cpuNow();
      for (let k = 0; k < names.length; k++) ranges[k] = methodRange(stats[names[k]!]!, v.method, v.params);
      const c1 = cpuNow();
      for (let k = 0; k < names.length; k++)
        histogramRangeError(stats[names[k]!]!.histogram, ranges[k]!.rmin, ranges[k]!.rmax, act.dtype, act);
      const c2 = cpuNow();
      runs.push(performance.now() - t0);
      cpu.push(c2 - c0);
      errorCpu.push(c2 - c1);
    }
    const ms = median(runs);
    total += ms;
    totalCpu += median(cpu);
    totalError += median(errorCpu);
    totalFastest += Math.min(...runs);
    emit(`methods_${v.id}_all_tensors_ms`, ms, 'ms', {
      tensors: names.length,
      cpu_ms: Number(median(cpu).toFixed(1)),
      range_error_cpu_ms: Number(median(errorCpu).toFixed(1)),
      fastest_ms: Number(Math.min(...runs).toFixed(1)),
    });
  }
  // CPU time beside wall time: on a loaded machine it moves far less from run to run. The fastest of
  // each variant's three passes beside the median: the first pass, and often the second, still run
  // code V8 has not optimized yet (its compiler works on a background thread, late on a loaded
  // machine) or meet a collection of the calibration's garbage; the fastest is the steady cost
  emit('methods_all_tensors_ms', total, 'ms', {
    tensors: names.length,
    variants: METHOD_VARIANTS.length,
    cpu_ms: Number(totalCpu.toFixed(1)),
    range_error_cpu_ms: Number(totalError.toFixed(1)),
    fastest_ms: Number(totalFastest.toFixed(1)),
    target: 100,
  });

  // One 2048-bin histogram: a Gaussian with 1% outliers.
  const n = normalSampler(mulberry32(1));
  const rnd = mulberry32(2);
  const h = updateHistogram(
    createHistogram(2048),
    Float32Array.from({ length: 200_000 }, () => n() * (rnd() < 0.01 ? 20 : 1)),
  );
  const fast: number[] = [];
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    entropyRangeOrt(h);
    fast.push(performance.now() - t0);
  }
  const slow: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    entropyRangeOrtExhaustive(h);
    slow.push(performance.now() - t0);
  }
  emit('entropy_2048_bins_ms', median(fast), 'ms', { exhaustive_ms: Number(median(slow).toFixed(2)) });

  // Histogram accumulation against the memory-read limit, on one activation-sized tensor.
  const data = Float32Array.from({ length: 4_000_000 }, () => n());
  const seeded = updateHistogram(createHistogram(2048), Float32Array.of(-8, 8));
  // Alternated (read, kernel, read, JS loop, ...) so that the machine's load falls on all three alike.
  const read: number[] = [];
  const bin: number[] = [];
  const binJs: number[] = [];
  // CPU time of each phase too: on a loaded machine it moves far less than the wall time
  const readCpu: number[] = [];
  const binCpu: number[] = [];
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let sink = 0;
  for (let r = 0; r < 10; r++) {
    let c0 = cpuMs();
    let t0 = performance.now();
    let s = 0;
    for (let i = 0; i < data.length; i++) s += data[i]!;
    sink += s;
    read.push(performance.now() - t0);
    readCpu.push(cpuMs() - c0);
    forceHistogramKernel(r % 2 ? 'js' : null);
    c0 = cpuMs();
    t0 = performance.now();
    const out = updateHistogramInRange(seeded, data);
    if (!out) throw new Error('data left the range');
    (r % 2 ? binJs : bin).push(performance.now() - t0);
    if (r % 2 === 0) binCpu.push(cpuMs() - c0);
  }
  forceHistogramKernel(null);
  const readRate = data.length / (median(read) / 1000);
  const binRate = data.length / (median(bin) / 1000);
  emit('histogram_elements_per_s', binRate, 'elements/s', {
    plain_read_elements_per_s: Math.round(readRate),
    js_loop_elements_per_s: Math.round(data.length / (median(binJs) / 1000)),
    sink: Math.sign(sink),
  });
  emit('histogram_throughput_ratio', binRate / readRate, 'ratio', {
    note: 'binning rate / plain read rate (1 = memory-bound)',
    kernel: histogramKernelKind(),
    cpu_time_ratio: Number((median(readCpu) / median(binCpu)).toFixed(3)),
    js_loop_ratio: Number((median(read) / median(binJs)).toFixed(3)),
    target: 0.8,
  });

  // PyTorch's HistogramObserver: each call bins (histc) and, when the range moves, folds the old
  // histogram in at 128x upsampling (262144 float64 additions); the data drifts so every call combines
  const calls: number[] = [];
  let th = createTorchHistogram();
  for (let r = 0; r < 7; r++) {
    const scaled = data.map((v) => v * (1 + r * 0.1));
    const t0 = performance.now();
    th = observeTorchHistogram(th, scaled);
    calls.push(performance.now() - t0);
  }
  emit('torch_histogram_observer_call_ms', median(calls), 'ms', { elements: data.length, calls: th.calls });
}
