/**
 * Two small models for the guard rail: x [1, 16] → MatMul to 17 channels (x itself, plus one channel
 * `gain`·x0) → MatMul back to x → Reshape [1, 16, 1] (no class axis: judged by output SQNR). With
 * gain 1000 the middle tensor's range (~±3000) needs more than 8 bits to keep x (~N(0, 1)): int8's step
 * of ~24 rounds it to nothing, and the export misses the 20 dB target. With gain 1 it meets it.
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
// module by module, not the onnx index: the e2e (plain Node ESM) builds these models too
import { bytesOf, makeNode, makeOpset, makeTensor, makeValueInfo, type ModelProto } from '../../src/onnx/proto';
import { DT } from '../../src/onnx/tensor';
import { mulberry32 } from '../../src/core/random';

function floatTensor(name: string, dims: number[], fill: (i: number) => number) {
  const n = dims.reduce((a, b) => a * b, 1);
  return makeTensor(name, DT.FLOAT, dims, bytesOf(Float32Array.from({ length: n }, (_, i) => fill(i))));
}

export function outlierModel(gain: number): ModelProto {
  const w1 = floatTensor('w1', [16, 17], (i) => {
    const [r, c] = [Math.floor(i / 17), i % 17];
    if (c === 16) return r === 0 ? gain : 0;
    return r === c ? 1 : 0;
  });
  const w2 = floatTensor('w2', [17, 16], (i) => {
    const [r, c] = [Math.floor(i / 16), i % 16];
    return r === c ? 1 : 0;
  });
  const shape = makeTensor('shape', DT.INT64, [3], bytesOf(BigInt64Array.of(1n, 16n, 1n)));
  return create(ModelProtoSchema, {
    irVersion: 7n,
    producerName: 'quantscope-tests',
    opsetImport: [makeOpset('', 13)],
    graph: create(GraphProtoSchema, {
      name: 'outlier',
      node: [
        makeNode('MatMul', ['x', 'w1'], ['h'], 'wide'),
        makeNode('MatMul', ['h', 'w2'], ['y'], 'narrow'),
        makeNode('Reshape', ['y', 'shape'], ['out'], 'reshape'),
      ],
      initializer: [w1, w2, shape],
      input: [makeValueInfo('x', DT.FLOAT, [1, 16])],
      output: [makeValueInfo('out', DT.FLOAT, [1, 16, 1])],
    }),
  });
}

/**
 * The weight-SQNR guard's broken weight: `name` (a [rows, cols] MatMul weight, quantized per column)
 * replaced by a heavy-tailed one: rows 0 and 1 of every column at ±10, the rest uniform in [-1, 1].
 * Int4's 7 steps of 10/7 round the rest to 0 or one step (about 13 dB); int8 keeps it above 35 dB.
 */
export function withHeavyTailedWeight(model: ModelProto, name: string): ModelProto {
  const g = model.graph!;
  const at = g.initializer.findIndex((t) => t.name === name);
  if (at < 0) throw new Error(`no initializer ${name}`);
  const dims = g.initializer[at]!.dims.map(Number);
  const rand = mulberry32(5);
  g.initializer[at] = floatTensor(name, dims, (i) => (i < 2 * dims[1]! ? (i % 2 ? 10 : -10) : rand() * 2 - 1));
  return model;
}
