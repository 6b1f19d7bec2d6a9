/**
 * Equalization, SmoothQuant and bias correction (runtime/modelAlgorithms.ts, the engine the CLI and the
 * page's worker share), on onnxruntime-node in this process:
 *   rewrite_equalize_det_ms        cross-layer equalization of PP-OCRv4 det (data-free), pairs equalized/skipped
 *   rewrite_smoothquant_tf_ms      SmoothQuant on test/helpers' tiny transformer (1.1 M parameters), 4 token samples
 *   bias_correction_det_ms         bias correction of det's weight-only int8 export, 2 documents (E[x] over im2col
 *                                  rows and the export's weights read back), layers corrected
 *
 *   npm run bench -- rewrites      (or npx tsx bench/modelAlgorithms.ts)
 */
import { DEFAULT_CONFIG, type QuantConfig } from '../src/core/config';
import { exportForm } from '../src/onnx/forms';
import { correctBiasesFromData, rewriteBeforeCalibration } from '../src/runtime/modelAlgorithms';
import { nodeOrt } from '../src/runtime/ortNode';
import { loadModelSync } from '../src/state/modelSlice';
import { tinyTransformer } from '../test/helpers/models';
import { docFeeds, ocrModel } from '../test/helpers/sample';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;

export async function benchModelAlgorithms(emit: Emit): Promise<void> {
  const det = loadModelSync('ch_PP-OCRv4_det_infer.onnx', ocrModel('det'), true);
  const eqConfig: QuantConfig = { ...DEFAULT_CONFIG, algorithms: { equalize: true } };
  let t0 = performance.now();
  const eq = await rewriteBeforeCalibration(nodeOrt, det.prepared, eqConfig, null);
  emit('rewrite_equalize_det_ms', performance.now() - t0, 'ms', {
    pairs: eq.report.equalization!.pairs.length,
    skipped: eq.report.equalization!.skipped.length,
    skipped_because: [...new Set(eq.report.equalization!.skipped.map((s) => s.reason))],
  });

  const tf = tinyTransformer();
  const tokens = (i: number) => ({
    tokens: {
      type: 'int64' as const,
      data: BigInt64Array.from({ length: 16 }, (_, k) => BigInt((i * 37 + k * 11) % 512)),
      dims: [1, 16],
    },
  });
  t0 = performance.now();
  const sq = await rewriteBeforeCalibration(
    nodeOrt,
    tf,
    { ...DEFAULT_CONFIG, algorithms: { smoothquant: {} } },
    { count: 4, feeds: async (i) => tokens(i) as never },
  );
  emit('rewrite_smoothquant_tf_ms', performance.now() - t0, 'ms', {
    inputs_smoothed: sq.report.smoothquant!.length,
    samples: 4,
  });

  const bc: QuantConfig = {
    ...DEFAULT_CONFIG,
    form: { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null },
    weights: { ...DEFAULT_CONFIG.weights, biasCorrection: true },
  };
  t0 = performance.now();
  const exported = exportForm(det.prepared, bc).model;
  const c = await correctBiasesFromData(
    nodeOrt,
    det.prepared,
    bc,
    { count: 2, feeds: async (i) => docFeeds(i) },
    exported,
  );
  emit('bias_correction_det_ms', performance.now() - t0, 'ms', {
    layers: c.layers.length,
    skipped: c.skipped.length,
    samples: 2,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchModelAlgorithms((name, value, unit, extra = {}) =>
    console.log(JSON.stringify({ name, value: Number(value.toFixed(4)), unit, ...extra })),
  );
}
