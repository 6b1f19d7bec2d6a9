/** Small models built in tests, for unit cases (real models are for integration and e2e). */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { bytesOf, encodeModel, makeNode, makeOpset, makeTensor, makeValueInfo, type ModelProto, type NodeProto, type TensorProto } from '../../src/onnx';

export function floatTensor(name: string, dims: number[], fill: (i: number) => number): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  return makeTensor(name, 1, dims, bytesOf(Float32Array.from({ length: n }, (_, i) => fill(i))));
}

export function buildModel(opts: {
  nodes: NodeProto[];
  inits?: TensorProto[];
  inputs: [string, (number | string)[]][];
  outputs: [string, (number | string)[] | undefined][];
  opset?: number;
  ir?: number;
}): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: BigInt(opts.ir ?? 7),
    producerName: 'quantscope-tests',
    opsetImport: [makeOpset('', opts.opset ?? 13)],
    graph: create(GraphProtoSchema, {
      name: 'g',
      node: opts.nodes,
      initializer: opts.inits ?? [],
      input: opts.inputs.map(([n, s]) => makeValueInfo(n, 1, s)),
      output: opts.outputs.map(([n, s]) => makeValueInfo(n, 1, s)),
    }),
  });
}

/** X[1,3,8,8] → Conv(4x3x3x3, bias) → Relu → GlobalAveragePool → Flatten → MatMul[4,5] → Add → Gemm(transB) → Y[1,6]. */
export function tinyConvNet(): ModelProto {
  const w = (i: number) => Math.sin(i * 1.7) * 0.5;
  return buildModel({
    inputs: [['X', [1, 3, 8, 8]]],
    outputs: [['Y', [1, 6]]],
    inits: [
      floatTensor('W', [4, 3, 3, 3], w),
      floatTensor('B', [4], (i) => 0.1 * i - 0.1),
      floatTensor('M', [4, 5], (i) => Math.cos(i) * 0.8),
      floatTensor('C', [5], (i) => 0.05 * i),
      floatTensor('G', [6, 5], (i) => Math.sin(i * 0.3)),
      floatTensor('GB', [6], (i) => 0.01 * i),
      makeTensor('shape2', 7, [2], bytesOf(BigInt64Array.of(1n, -1n))),
    ],
    nodes: [
      makeNode('Conv', ['X', 'W', 'B'], ['conv'], 'conv0', { pads: [1, 1, 1, 1] }),
      makeNode('Relu', ['conv'], ['relu'], 'relu0'),
      makeNode('GlobalAveragePool', ['relu'], ['gap'], 'gap0'),
      makeNode('Reshape', ['gap', 'shape2'], ['flat'], 'reshape0'),
      makeNode('MatMul', ['flat', 'M'], ['mm'], 'matmul0'),
      makeNode('Add', ['mm', 'C'], ['add'], 'add0'),
      makeNode('Gemm', ['add', 'G', 'GB'], ['Y'], 'gemm0', { transB: 1 }),
    ],
  });
}

export { encodeModel };

/** X → Log → Conv → A (NaN wherever X < 0), and X → Mul(0) → Conv → B (an all-zero activation). */
export function nanAndZeroNet(): ModelProto {
  return buildModel({
    inputs: [['X', [1, 3, 8, 8]]],
    outputs: [
      ['A', [1, 4, 8, 8]],
      ['B', [1, 4, 8, 8]],
    ],
    inits: [
      floatTensor('Wa', [4, 3, 3, 3], (i) => Math.sin(i)),
      floatTensor('Wb', [4, 3, 3, 3], (i) => Math.cos(i)),
      floatTensor('Bb', [4], (i) => i - 1.5),
      floatTensor('zero', [1], () => 0),
    ],
    nodes: [
      makeNode('Log', ['X'], ['logx'], 'log0'),
      makeNode('Conv', ['logx', 'Wa'], ['A'], 'conv_a', { pads: [1, 1, 1, 1] }),
      makeNode('Mul', ['X', 'zero'], ['zeros'], 'mul0'),
      makeNode('Conv', ['zeros', 'Wb', 'Bb'], ['B'], 'conv_b', { pads: [1, 1, 1, 1] }),
    ],
  });
}
