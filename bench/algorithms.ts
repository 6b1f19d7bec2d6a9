/**
 * Weight-rounding algorithms (runtime/weightRounding.ts, the engine the CLI and the page share), on
 * onnxruntime-node in this process:
 *   algorithms_<alg>_rec_s            GPTQ / AdaRound on every MatMul/Conv weight of PP-OCRv4 rec, int4 blocks of 32,
 *                                     BENCH_ALGO_SAMPLES rendered lines (default 4), moments and rounding
 *   algorithms_moments_MBps           X^T X accumulation, in MB of float32 layer inputs folded a second
 *   algorithms_gptq_mlp_s             GPTQ on the 96 MiB (100 MB) MLP of bench/forms.ts, 8 random inputs
 *   algorithms_*_peak_mb              peak live memory (heap + ArrayBuffers, sampled every 20 ms)
 * AdaRound on the MLP is timed per iteration of one 2048x2048 layer: its cost is rows·cols² an iteration.
 *
 *   npx tsx bench/algorithms.ts        (or as part of npm run bench)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accumulateRows, adaround, createMoments, momentMatrix } from '../src/core/algorithms';
import { DEFAULT_CONFIG, type QuantConfig, type WeightAlgorithm } from '../src/core/config';
import { mulberry32, normalSampler } from '../src/core/random';
import { decodePng, imageToTensor, PPOCR_REC_PRESET } from '../src/data/image';
import type { ModelProto } from '../src/onnx';
import { nodeOrt } from '../src/runtime/ortNode';
import { roundWeights } from '../src/runtime/weightRounding';
import { loadModelSync } from '../src/state/modelSlice';
import { ocrModel, ROOT } from '../test/helpers/sample';
import { wideMlp } from './forms';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;

/** AdaRound iterations here (BENCH_ADAROUND_ITERS, default 50): its cost is linear in them. */
const ADAROUND_ITERS = Number(process.env.BENCH_ADAROUND_ITERS ?? 50);

const config = (algorithm: WeightAlgorithm): QuantConfig => ({
  ...DEFAULT_CONFIG,
  form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 32 },
  weights: { ...DEFAULT_CONFIG.weights, algorithm },
  algorithms: { adaround: { iterations: ADAROUND_ITERS } },
});

/**
 * Wall seconds, and this process's CPU seconds (user + system, every thread: onnxruntime's too), which on
 * a shared machine say more than the wall time does; peak live memory.
 */
async function timed<T>(
  f: () => Promise<T>,
): Promise<{ value: T; seconds: number; cpuSeconds: number; peakMb: number }> {
  const live = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  let peak = live();
  const timer = setInterval(() => (peak = Math.max(peak, live())), 20);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  try {
    const value = await f();
    const c = process.cpuUsage(c0);
    return {
      value,
      seconds: (performance.now() - t0) / 1000,
      cpuSeconds: (c.user + c.system) / 1e6,
      peakMb: Math.max(peak, live()) / 2 ** 20,
    };
  } finally {
    clearInterval(timer);
  }
}

export async function benchAlgorithms(emit: Emit): Promise<void> {
  const count = Number(process.env.BENCH_ALGO_SAMPLES ?? 4);
  const rec = loadModelSync('ch_PP-OCRv4_rec_infer.onnx', ocrModel('rec'), false);
  const dir = join(ROOT, 'public', 'samples', 'rec');
  const names = Object.keys(JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as object);
  const line = (n: string) => imageToTensor(decodePng(new Uint8Array(readFileSync(join(dir, n))), n), PPOCR_REC_PRESET);
  for (const alg of ['gptq', 'adaround'] as const) {
    const r = await timed(() =>
      roundWeights(nodeOrt, rec.prepared, config(alg), { count, feeds: async (i) => ({ x: line(names[i]!) }) }),
    );
    const better = r.value.layers.filter((l) => l.loss < l.lossRtn).length;
    emit(`algorithms_${alg}_rec_s`, r.seconds, 's', {
      cpu_s: r.cpuSeconds,
      layers: r.value.layers.length,
      below_rtn: better,
      moments_s: r.value.momentsSeconds,
      samples: count,
      ...(alg === 'adaround' ? { iterations: ADAROUND_ITERS } : {}),
    });
    emit(`algorithms_${alg}_rec_peak_mb`, r.peakMb, 'MiB');
    if (alg === 'gptq') emit('algorithms_moments_MBps', r.value.momentsMBps, 'MB/s', { model: 'rec' });
  }
  const mlp: ModelProto = wideMlp();
  const g = normalSampler(mulberry32(9));
  const r = await timed(() =>
    roundWeights(nodeOrt, mlp, config('gptq'), {
      count: 8,
      feeds: async () => ({ x: { data: Float32Array.from({ length: 2048 }, () => g()), dims: [1, 2048] } }),
    }),
  );
  emit('algorithms_gptq_mlp_s', r.seconds, 's', {
    cpu_s: r.cpuSeconds,
    layers: r.value.layers.length,
    weights_mb: 100.7,
    moments_s: r.value.momentsSeconds,
  });
  emit('algorithms_moments_MBps', r.value.momentsMBps, 'MB/s', { model: 'mlp' });
  emit('algorithms_gptq_mlp_peak_mb', r.peakMb, 'MiB');
  // AdaRound on one 2048x2048 layer: seconds an iteration
  const cols = 2048;
  const m = createMoments(cols);
  accumulateRows(
    m,
    Float32Array.from({ length: 64 * cols }, () => g()),
    64,
  );
  const w = Float32Array.from({ length: cols * cols }, () => g() * 0.02);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  adaround(w, cols, cols, momentMatrix(m, 1 / 64), { dtype: 'int4', symmetric: true, groupSize: 32, iterations: 2 });
  const c = process.cpuUsage(c0);
  emit('algorithms_adaround_iteration_2048x2048_s', (performance.now() - t0) / 1000 / 2, 's', {
    cpu_s: (c.user + c.system) / 1e6 / 2,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchAlgorithms((name, value, unit, extra = {}) =>
    console.log(JSON.stringify({ name, value: Number(value.toFixed(4)), unit, ...extra })),
  );
}
