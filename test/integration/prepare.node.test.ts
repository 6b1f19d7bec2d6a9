/**
 * Graph preparation keeps the float model's meaning: the raised-opset models give the original's
 * outputs (onnxruntime-node), and a conversion that only bumped the version number would not.
 */
import * as ort from 'onnxruntime-node';
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { decodeModel, defaultOpset, encodeModel, makeNode, makeOpset, prepareModel } from '../../src/onnx';
import { hoistConstants } from '../../src/onnx/passes/hoistConstants';
import { upgradeOpset } from '../../src/onnx/passes/upgradeOpset';
import { buildModel } from '../helpers/models';
import { ocrModel, seededFloats } from '../helpers/sample';

async function run(bytes: Uint8Array, name: string, data: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ [name]: new ort.Tensor('float32', data, dims) });
  return r[s.outputNames[0]!]!.data as Float32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('opset 9/11 → 13 on the PaddleOCR models', () => {
  const cases = [
    ['det', [1, 3, 320, 320], 11],
    ['rec', [1, 3, 48, 320], 9],
    ['cls', [1, 3, 48, 192], 9],
  ] as const;
  it.each(cases)(
    '%s: raised model within 1e-5 of the original, prepared (folded) model too',
    async (name, dims, opset) => {
      const bytes = ocrModel(name);
      const original = decodeModel(bytes, name);
      expect(defaultOpset(original)).toBe(opset);
      const raised = upgradeOpset(hoistConstants(original).model, 13);
      expect(raised.model.irVersion).toBeGreaterThanOrEqual(7n);
      expect(defaultOpset(raised.model)).toBe(13);
      const x = seededFloats(
        dims.reduce((a: number, b: number) => a * b, 1),
        11,
      );
      const ref = await run(bytes, 'x', x, [...dims]);
      expect(maxAbsDiff(ref, await run(encodeModel(raised.model), 'x', x, [...dims]))).toBeLessThanOrEqual(1e-5);
      const prepared = prepareModel(original);
      expect(maxAbsDiff(ref, await run(encodeModel(prepared.model), 'x', x, [...dims]))).toBeLessThanOrEqual(1e-5);
    },
  );
});

describe('Softmax before opset 13 flattens at its axis', () => {
  const model = buildModel({
    inputs: [['X', [2, 3, 4]]],
    outputs: [['Y', [2, 3, 4]]],
    nodes: [makeNode('Softmax', ['X'], ['Y'], 'sm', { axis: 1 })],
    opset: 11,
  });
  const x = seededFloats(24, 3).map((v) => v * 4);

  it('keeps its meaning through the conversion', async () => {
    const ref = await run(encodeModel(model), 'X', x, [2, 3, 4]);
    const up = upgradeOpset(model, 13).model;
    expect(up.graph!.node.map((n) => n.opType)).toEqual(['Shape', 'Flatten', 'Softmax', 'Reshape']);
    expect(maxAbsDiff(ref, await run(encodeModel(up), 'X', x, [2, 3, 4]))).toBeLessThanOrEqual(1e-6);
  });

  it('would change meaning under a bare version bump (so the check above can fail)', async () => {
    const ref = await run(encodeModel(model), 'X', x, [2, 3, 4]);
    const naive = clone(ModelProtoSchema, model);
    naive.opsetImport = [makeOpset('', 13)];
    expect(maxAbsDiff(ref, await run(encodeModel(naive), 'X', x, [2, 3, 4]))).toBeGreaterThan(1e-2);
  });
});
