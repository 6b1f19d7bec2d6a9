/**
 * PP-OCRv4 rec, weight-only int4 in blocks of 32 on every MatMul/Conv weight (what
 * `quantscope quantize --format weight-only --weights int4 --block-size 32 --algorithm A` writes):
 * round-to-nearest, GPTQ and AdaRound, character accuracy on the held-out rendered lines (the 9 after
 * the 16 calibration lines), file size over the float model's, and the time the rounding took. A long
 * run (minutes on 2 cores), so it lives here and not in npm test; it exits 1 when GPTQ misses the
 * bounds it reached when measured (README: the numbers).
 *
 *   npx tsx bench/recAlgorithms.ts [rtn gptq adaround adaround@50 ...]   (adaround@N: N iterations a layer)
 */
import { DEFAULT_CONFIG, type QuantConfig, type WeightAlgorithm } from '../src/core/config';
import { encodeModelParts } from '../src/onnx';
import { exportForm } from '../src/onnx/forms';
import { nodeOrt } from '../src/runtime/ortNode';
import { collectInputMoments, type CollectedMoments } from '../src/runtime/inputMoments';
import { roundingTargets } from '../src/runtime/roundingTargets';
import { roundFromMoments } from '../src/runtime/weightRounding';
import { loadModelSync } from '../src/state/modelSlice';
import { ocrModel } from '../test/helpers/sample';
import { recCharacterAccuracy, recLine, recLineNames } from '../test/helpers/recLines';

/** Bounds GPTQ reached when measured (see the README); the run fails below them. */
export const REC_GPTQ_BOUNDS = { maxDropPoints: 3.5, maxSizeRatio: 0.17 };

const emit = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ name, value: Number(value.toFixed(4)), unit, ...extra }));

const floatBytes = ocrModel('rec');
const rec = loadModelSync('ch_PP-OCRv4_rec_infer.onnx', floatBytes, false);
const floatAcc = await recCharacterAccuracy(floatBytes);
emit('rec_float_char_accuracy', floatAcc, 'fraction');
/** `adaround@N`: AdaRound at N iterations a layer (its curve: accuracy against iterations). */
const runs = (process.argv.slice(2).length ? process.argv.slice(2) : ['rtn', 'gptq', 'adaround']).map((arg) => {
  const [algorithm, iterations] = arg.split('@') as [WeightAlgorithm, string | undefined];
  return { label: arg.replace('@', '_'), algorithm, iterations: iterations ? Number(iterations) : undefined };
});
let failed = false;
// the layers' input moments, collected once for every algorithm (the weights rounded are the same set)
let collected: CollectedMoments | undefined;
for (const { label, algorithm, iterations } of runs) {
  const config: QuantConfig = {
    ...DEFAULT_CONFIG,
    form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 32 },
    weights: { ...DEFAULT_CONFIG.weights, algorithm },
    ...(iterations ? { algorithms: { adaround: { iterations } } } : {}),
  };
  const t0 = performance.now();
  const targets = roundingTargets(rec.prepared, config);
  if (algorithm !== 'rtn')
    collected ??= await collectInputMoments(nodeOrt, rec.prepared, targets, {
      count: 16,
      feeds: async (i) => ({ x: recLine(recLineNames[i]!) }),
    });
  const r = algorithm === 'rtn' ? undefined : await roundFromMoments(targets, collected!.moments, config);
  const seconds = (performance.now() - t0) / 1000;
  const parts = encodeModelParts(exportForm(rec.prepared, config, undefined, r?.rounded).model);
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  const acc = await recCharacterAccuracy(bytes);
  const ratio = bytes.length / floatBytes.length;
  emit(`rec_int4_b32_${label}_char_accuracy`, acc, 'fraction', {
    float: floatAcc,
    drop_points: Number((100 * (floatAcc - acc)).toFixed(2)),
    size_ratio: Number(ratio.toFixed(4)),
    rounding_s: Number(seconds.toFixed(1)), // the first algorithm's includes collecting the moments
    moments_s: collected ? Number(collected.momentsSeconds.toFixed(1)) : undefined,
    layers_below_rtn: r ? r.layers.filter((l) => l.loss < l.lossRtn).length : undefined,
    layers: r ? r.layers.length : undefined,
  });
  if (algorithm === 'gptq')
    failed ||= 100 * (floatAcc - acc) > REC_GPTQ_BOUNDS.maxDropPoints || ratio > REC_GPTQ_BOUNDS.maxSizeRatio;
}
process.exit(failed ? 1 : 0);
