/**
 * Export forms on PP-OCRv4 rec and det, on held-out text lines and a held-out document: each file runs
 * in onnxruntime-node, agrees with the float model above a measured bound (measured values in the
 * comments), and its size is what the form promises (forms.node.test.ts: every form on a transformer).
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { sqnr } from '../../src/core/metrics';
import { encodeModel, exportForm, type ModelProto } from '../../src/onnx';
import { decodePng, imageToTensor, PPOCR_REC_PRESET } from '../../src/data/image';
import { runAll, type Feed, type Row } from '../helpers/formRuns';
import { ocrModel, ROOT } from '../helpers/sample';
import { loadModelSync } from '../../src/state/modelSlice';

/**
 * A test per row: the row's form exported from `model` agrees with the float model over `feeds` (output
 * SQNR at least the row's) and its file is the row's size (a fraction of the float file's).
 */
function eachFormAgrees(model: ModelProto, feeds: Feed[], rows: Row[]): void {
  let reference: Float32Array;
  it.each(rows.map((r) => [JSON.stringify(r.form), r] as const))('%s', async (_label, row) => {
    const floatBytes = encodeModel(model);
    reference ??= await runAll(floatBytes, feeds);
    const bytes = encodeModel(exportForm(model, { ...DEFAULT_CONFIG, form: row.form }).model);
    expect(sqnr(reference, await runAll(bytes, feeds))).toBeGreaterThanOrEqual(row.minSqnr);
    const ratio = bytes.length / floatBytes.length;
    expect(ratio).toBeGreaterThanOrEqual(row.size[0]);
    expect(ratio).toBeLessThanOrEqual(row.size[1]);
  });
}

describe('forms on PP-OCRv4 rec (convolutions and SVTR MatMuls), on held-out text lines', () => {
  const rec = loadModelSync('ch_PP-OCRv4_rec_infer.onnx', ocrModel('rec'), true).prepared;
  const lines: Feed[] = [17, 18, 19].map((i) => {
    const t = imageToTensor(
      decodePng(new Uint8Array(readFileSync(join(ROOT, 'public', 'samples', 'rec', `line-${i}.png`)))),
      PPOCR_REC_PRESET,
    );
    return { name: 'x', tensor: new ort.Tensor('float32', t.data as Float32Array, t.dims) };
  });
  // measured: dq int8 14.9 dB (every Conv too), MatMulNBits int4 16.0, fp16 49.8, dynamic (MatMul) ≥ 30
  const rows: Row[] = [
    {
      form: { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null },
      minSqnr: 12,
      size: [0.24, 0.3],
    },
    {
      form: { kind: 'weight-only', format: 'matmulnbits', dtype: 'int4', symmetric: true, blockSize: 32 },
      minSqnr: 13,
      size: [0.6, 0.75],
    },
    { form: { kind: 'float16', keepIoTypes: true }, minSqnr: 45, size: [0.49, 0.52] },
    { form: { kind: 'dynamic', ops: ['MatMul', 'Gemm'] }, minSqnr: 25, size: [0.6, 0.8] },
  ];
  eachFormAgrees(rec, lines, rows);
});

describe('forms on PP-OCRv4 det (convolutions only), on a held-out document', () => {
  const det = loadModelSync('ch_PP-OCRv4_det_infer.onnx', ocrModel('det'), true).prepared;
  const doc: Feed[] = [14].map((i) => {
    const t = imageToTensor(
      decodePng(new Uint8Array(readFileSync(join(ROOT, 'public', 'samples', 'det', `doc-${i}.png`)))),
      { normalize: 'imagenet', channels: 'BGR', layout: 'NCHW', resize: 'stretch', multipleOf: 32 },
    );
    return { name: 'x', tensor: new ort.Tensor('float32', t.data as Float32Array, t.dims) };
  });
  // measured: dq int8 26.4 dB / 0.271, float16 52.7 / 0.504, dynamic (ConvInteger, per-tensor uint8) 11.9 / 0.271
  const rows: Row[] = [
    {
      form: { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null },
      minSqnr: 24,
      size: [0.24, 0.3],
    },
    { form: { kind: 'float16', keepIoTypes: true }, minSqnr: 48, size: [0.49, 0.52] },
    { form: { kind: 'dynamic', ops: ['Conv'] }, minSqnr: 10, size: [0.24, 0.3] },
  ];
  eachFormAgrees(det, doc, rows);
});
