/**
 * TFLite export of the sample (PP-OCRv4 det, 480x640): time and peak memory to build and write the
 * int8 file (ranges made up, [-1, 1] for every calibrated tensor: the work does not depend on them) and
 * the float32 file. tflite_det_int8_ms, tflite_det_int8_peak_rss_mb, tflite_det_float32_ms.
 */
import { DEFAULT_CONFIG } from '../src/core';
import { calibrationTensors } from '../src/onnx';
import { exportTflite } from '../src/onnx/forms/tflite';
import { loadModelSync } from '../src/state/modelSlice';
import { ocrModel } from '../test/helpers/sample';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;

export function benchTflite(emit: Emit): void {
  const m = loadModelSync('ch_PP-OCRv4_det_infer.onnx', ocrModel('det'), true);
  const ranges = new Map(calibrationTensors(m.prepared, m.plan).map((t) => [t, { rmin: -1, rmax: 1 }]));
  const shapes = { x: [1, 3, 480, 640] };
  const measure = (fn: () => number) => {
    let peak = process.memoryUsage().rss;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const t0 = performance.now();
    const size = fn();
    const ms = performance.now() - t0;
    clearInterval(timer);
    return { ms, size, peak: Math.max(peak, process.memoryUsage().rss) };
  };
  const int8 = measure(
    () =>
      exportTflite(
        m.prepared,
        { precision: 'int8', inputShapes: shapes },
        { plan: m.plan, ranges, config: DEFAULT_CONFIG },
      ).bytes.length,
  );
  emit('tflite_det_int8_ms', int8.ms, 'ms', { bytes: int8.size });
  emit('tflite_det_int8_peak_rss_mb', int8.peak / 2 ** 20, 'MiB');
  const f32 = measure(() => exportTflite(m.prepared, { precision: 'float32', inputShapes: shapes }).bytes.length);
  emit('tflite_det_float32_ms', f32.ms, 'ms', { bytes: f32.size });
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  benchTflite((name, value, unit, extra = {}) =>
    console.log(JSON.stringify({ name, value: Number(value.toFixed(4)), unit, ...extra })),
  );
}
