/**
 * The one-node models npm run probe:support runs on each onnxruntime-web backend (scripts/probe-support.ts):
 * each keyed like the support table (onnx/forms/support.ts opKey), with a float32 input X and output Y.
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import {
  bytesOf,
  encodeModel,
  makeNode,
  makeOpset,
  makeTensor,
  makeValueInfo,
  type NodeProto,
  type TensorProto,
} from '../../src/onnx';
import { opKey } from '../../src/onnx/forms/support';
import { inferElemTypes } from '../../src/onnx/types';
import { DT } from '../../src/onnx/tensor';

export interface Probe {
  key: string;
  bytes: Uint8Array;
  dims: number[];
}

export const f32 = (name: string, dims: number[], v = 0.1) =>
  makeTensor(
    name,
    DT.FLOAT,
    dims,
    bytesOf(Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => v * Math.sin(i + 1))),
  );
export const ints = (name: string, type: number, dims: number[], values: number[]): TensorProto => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data =
    type === DT.INT64
      ? bytesOf(BigInt64Array.from({ length: n }, (_, i) => BigInt(values[i % values.length]!)))
      : type === DT.INT32
        ? bytesOf(Int32Array.from({ length: n }, (_, i) => values[i % values.length]!))
        : type === DT.INT16
          ? bytesOf(Int16Array.from({ length: n }, (_, i) => values[i % values.length]!))
          : type === DT.UINT16
            ? bytesOf(Uint16Array.from({ length: n }, (_, i) => values[i % values.length]!))
            : type === DT.INT8
              ? bytesOf(Int8Array.from({ length: n }, (_, i) => values[i % values.length]!))
              : bytesOf(Uint8Array.from({ length: n }, (_, i) => values[i % values.length]!));
  return makeTensor(name, type, dims, data);
};

/**
 * A model X[float32, dims] → (Cast to `at`) → node → (Cast to float32) → Y. The node reads `x` (and its
 * initializers) and writes `y`; the probe's key is the node's.
 */
export function probe(
  dims: number[],
  node: NodeProto,
  inits: TensorProto[],
  opts: { at?: number; opset?: number; domains?: string[]; outType?: number; then?: NodeProto } = {},
): Probe {
  const at = opts.at ?? DT.FLOAT;
  const nodes: NodeProto[] = [];
  if (at !== DT.FLOAT) nodes.push(makeNode('Cast', ['X'], ['x'], 'cast_in', { to: at }));
  else nodes.push(makeNode('Identity', ['X'], ['x'], 'in'));
  nodes.push(node);
  if (opts.then) nodes.push(opts.then); // e.g. QuantizeLinear → DequantizeLinear, so that the output is float
  const outType = opts.then ? DT.FLOAT : (opts.outType ?? at);
  nodes.push(
    outType !== DT.FLOAT
      ? makeNode('Cast', ['y'], ['Y'], 'cast_out', { to: DT.FLOAT })
      : makeNode('Identity', ['y'], ['Y'], 'out'),
  );
  const model = create(ModelProtoSchema, {
    irVersion: BigInt((opts.opset ?? 17) >= 21 ? 10 : 8),
    opsetImport: [makeOpset('', opts.opset ?? 17), ...(opts.domains ?? []).map((d) => makeOpset(d, 1))],
    graph: create(GraphProtoSchema, {
      name: 'probe',
      node: nodes,
      initializer: inits,
      input: [makeValueInfo('X', DT.FLOAT, dims)],
      output: [makeValueInfo('Y', DT.FLOAT)],
    }),
  });
  const key = opKey(node, inferElemTypes(model.graph!));
  return { key, bytes: encodeModel(model), dims };
}
/** DequantizeLinear of a constant, added to the input so that the model has a real input. */
export function dqProbe(node: NodeProto, inits: TensorProto[], opset: number): Probe {
  node.output = ['d'];
  const shape = inits[0]!.dims.map(Number);
  const p = probe(shape, node, inits, { opset });
  // rebuild with an Add so the graph reads X: x + dequantized
  const add = makeNode('Add', ['x', 'd'], ['y'], 'add');
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(opset >= 21 ? 10 : 8),
    opsetImport: [makeOpset('', opset)],
    graph: create(GraphProtoSchema, {
      name: 'probe',
      node: [makeNode('Identity', ['X'], ['x'], 'in'), node, add, makeNode('Identity', ['y'], ['Y'], 'out')],
      initializer: inits,
      input: [makeValueInfo('X', DT.FLOAT, shape)],
      output: [makeValueInfo('Y', DT.FLOAT)],
    }),
  });
  return { key: p.key, bytes: encodeModel(model), dims: shape };
}

/** An integer op fed by DynamicQuantizeLinear, so the probe needs only a float input. */
export function intProbe(node: NodeProto, inits: TensorProto[], dims: number[]): Probe {
  const dq = makeNode('DynamicQuantizeLinear', ['X'], ['xq', 'xs', 'xz'], 'dyn');
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [makeOpset('', 17)],
    graph: create(GraphProtoSchema, {
      name: 'probe',
      node: [dq, node, makeNode('Cast', ['acc'], ['Y'], 'cast', { to: DT.FLOAT })],
      initializer: inits,
      input: [makeValueInfo('X', DT.FLOAT, dims)],
      output: [makeValueInfo('Y', DT.FLOAT)],
    }),
  });
  return { key: opKey(node, inferElemTypes(model.graph!)), bytes: encodeModel(model), dims };
}
