/**
 * An opset-21 QDQ file (one int16 tensor) whose int8 activation DQ feeds Reshape → Transpose loads in
 * onnxruntime-node at every optimization level: its int8 activations are stored as uint8 with the zero
 * point + 128 (src/onnx/activationStorage.ts). Stored as int8, onnxruntime 1.30 refuses it at
 * 'extended' and 'all' ("output_dtype INT8 does not match y_zero_point type UINT8"); the same happened
 * to tuned PP-OCRv4 rec files. The file computes what the int8 file computes.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core/config';
import { buildQdqModel, encodeModel, planQuantization, prepareModel, type TensorRange } from '../../src/onnx';
import { bytesOf, makeNode, makeTensor, type NodeProto } from '../../src/onnx/proto';
import { buildModel, floatTensor } from '../helpers/models';

// attention as PP-OCRv4 rec's SVTR blocks have it: MatMul + bias → Reshape → Transpose → three
// Slice → Squeeze (q, k, v) → scaled q·kᵀ → Softmax → ·v
const i64 = (...v: bigint[]) => bytesOf(BigInt64Array.from(v));
const slice = (k: number): NodeProto[] => [
  makeNode('Slice', ['t', `s${k}`, `e${k}`, 'axis0'], [`sl${k}`], `slice${k}`),
  makeNode('Squeeze', [`sl${k}`, 'axis0'], [`h${k}`], `squeeze${k}`),
];
const model = prepareModel(
  buildModel({
    inputs: [['X', [1, 4, 24]]],
    outputs: [['Z', [1, 4, 8]]],
    inits: [
      floatTensor('W', [24, 24], (i) => Math.sin(i * 0.7) * 0.3),
      floatTensor('B', [24], (i) => Math.cos(i) * 0.1),
      makeTensor('shape', 7, [4], i64(1n, 4n, 3n, 8n)),
      makeTensor('axis0', 7, [1], i64(0n)),
      ...[0, 1, 2].flatMap((k) => [
        makeTensor(`s${k}`, 7, [1], i64(BigInt(k))),
        makeTensor(`e${k}`, 7, [1], i64(BigInt(k + 1))),
      ]),
      floatTensor('K', [1], () => 0.35),
    ],
    nodes: [
      makeNode('MatMul', ['X', 'W'], ['mm'], 'mm0'),
      makeNode('Add', ['mm', 'B'], ['qkv'], 'add0'),
      makeNode('Reshape', ['qkv', 'shape'], ['r'], 'reshape0'),
      makeNode('Transpose', ['r'], ['t'], 'transpose0', { perm: [2, 0, 1, 3] }),
      ...slice(0),
      ...slice(1),
      ...slice(2),
      makeNode('Mul', ['h0', 'K'], ['q'], 'mul0'),
      makeNode('Transpose', ['h1'], ['kt'], 'transpose1', { perm: [0, 2, 1] }),
      makeNode('MatMul', ['q', 'kt'], ['logits'], 'mm1'),
      makeNode('Softmax', ['logits'], ['attn'], 'softmax0', { axis: -1 }),
      makeNode('MatMul', ['attn', 'h2'], ['Z'], 'mm2'),
    ],
  }),
  {},
).model;

const everyRange: TensorRange = { rmin: -2.5, rmax: 3 };
const ranges = new Map<string, TensorRange>(
  planQuantization(model, DEFAULT_CONFIG).activations.map((t) => [t, everyRange]),
);
const X = Float32Array.from({ length: 96 }, (_, i) => Math.cos(i * 1.3) * 0.9);

function exported(config: QuantConfig) {
  return buildQdqModel(model, planQuantization(model, config), ranges, config).model;
}

async function run(bytes: Uint8Array, level: 'disabled' | 'basic' | 'extended' | 'all'): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: level, logSeverityLevel: 3 });
  try {
    const r = await s.run({ X: new ort.Tensor('float32', X, [1, 4, 24]) });
    return Float32Array.from(r.Z!.data as Float32Array);
  } finally {
    await s.release();
  }
}

describe('int8 activations in an opset-21 QDQ file', () => {
  const wide: QuantConfig = { ...DEFAULT_CONFIG, tensors: { X: { activations: { dtype: 'int16' } } } };

  it('are stored as uint8 with the zero point + 128, and the file loads at every optimization level', async () => {
    const m = exported(wide);
    expect(m.opsetImport.find((o) => o.domain === '')?.version).toBe(21n);
    const bytes = encodeModel(m);
    const reference = await run(bytes, 'disabled');
    for (const level of ['basic', 'extended', 'all'] as const) {
      const y = await run(bytes, level);
      // fused integer kernels round once where the QDQ chain rounds twice: within one output step
      y.forEach((v, i) => expect(Math.abs(v - reference[i]!)).toBeLessThanOrEqual(8.5 / 255 + 1e-6));
    }
    const zp = (t: string) => m.graph!.initializer.find((i) => i.name === `${t}_zero_point`)!;
    expect(zp('X').dataType).toBe(5); // int16, as chosen
    expect(zp('mm').dataType).toBe(2); // uint8 in the file
    const plain = exported(DEFAULT_CONFIG); // opset 13: int8 as chosen
    const zp8 = plain.graph!.initializer.find((i) => i.name === 'mm_zero_point')!;
    expect(zp8.dataType).toBe(3);
    expect(zp('mm').rawData[0]).toBe((new Int8Array(zp8.rawData.buffer, zp8.rawData.byteOffset, 1)[0]! + 128) & 255);
  });

  it('compute exactly what int8 activations compute (no optimization: plain Q/DQ arithmetic)', async () => {
    // the same file with int16 on X in both; only the storage of the int8 tensors differs
    const asUint8 = await run(encodeModel(exported(wide)), 'disabled');
    const m = exported(wide);
    for (const t of m.graph!.initializer) {
      if (t.dataType !== 2 || !t.name.endsWith('_zero_point')) continue;
      t.dataType = 3;
      t.rawData = Uint8Array.of((t.rawData[0]! - 128) & 255);
    }
    expect(Array.from(await run(encodeModel(m), 'disabled'))).toEqual(Array.from(asUint8));
  });
});
