/**
 * PP-OCRv4 recognition through the whole path: opset 9 → 13 (proved in prepare.node.test.ts),
 * calibration on 16 rendered text lines of varying width, int8 export, and the exported file
 * reading 8 held-out lines (greedy CTC with the package's ppocr_keys_v1.txt).
 * Measured: float 98.6%, int8 per-channel 98.1% character accuracy; per-tensor weights 0%.
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core';
import { buildQdqModel, encodeModel, withExtraOutputs } from '../../src/onnx';
import { calibrate, type StatsMap } from '../../src/runtime/calibrate';
import type { OrtModule } from '../../src/runtime/ort';
import { calibratedRanges } from '../../src/core/calibratedRanges';
import { loadModelSync } from '../../src/state/modelSlice';
import type { LoadedModel } from '../../src/state/store';
import { ocrModel } from '../helpers/sample';
import { recCharacterAccuracy, recLine, recLineNames } from '../helpers/recLines';

let model: LoadedModel;
let stats: StatsMap;

const exportWith = (config: QuantConfig) =>
  encodeModel(buildQdqModel(model.prepared, model.plan, calibratedRanges(stats), config).model);

beforeAll(async () => {
  model = loadModelSync('ch_PP-OCRv4_rec_infer.onnx', ocrModel('rec'), false);
  expect(model.ocr).toBe('rec');
  const widths = new Set(recLineNames.slice(0, 16).map((n) => recLine(n).dims[3]));
  expect(widths.size).toBeGreaterThan(8); // text lines of varying width feed the dynamic W
  const session = await ort.InferenceSession.create(
    encodeModel(withExtraOutputs(model.prepared, model.plan.activations)),
  );
  stats = await calibrate(
    ort as unknown as OrtModule,
    session,
    { count: 16, feeds: async (i) => ({ x: recLine(recLineNames[i]!) }) },
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
    const float = await recCharacterAccuracy(model.bytes);
    const int8 = await recCharacterAccuracy(exportWith(DEFAULT_CONFIG));
    expect(float).toBeGreaterThan(0.95);
    expect(float - int8).toBeLessThanOrEqual(0.01);
  });

  it('collapses with per-tensor weights, as its outlier 1x1 convolutions predict', async () => {
    const perTensor = await recCharacterAccuracy(
      exportWith({ ...DEFAULT_CONFIG, weights: { ...DEFAULT_CONFIG.weights, perChannel: false } }),
    );
    expect(perTensor).toBeLessThan(0.5);
  });
});
