/**
 * Pass: move the weights that Constant nodes carry into graph initializers, so the quantizer sees
 * them as weights (Paddle2ONNX exports, PaddleOCR's among them, keep every weight in a Constant).
 * A subgraph's Constants (Silero VAD keeps its LSTM weights in Constants inside If branches) become
 * that subgraph's own initializers, in the scope that reads them.
 * In IR < 4 a main-graph initializer must also be a graph input (onnx/docs/IR.md, "Graphs"), so one is added.
 */
import { clone, create } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProtoSchema } from 'onnx-buf';
import { getAttr, makeValueInfo, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../proto';
import { DT } from '../tensor';

function constantTensor(node: NodeProto): TensorProto | undefined {
  const value = getAttr(node, 'value');
  if (value?.t) return clone(TensorProtoSchema, value.t);
  const vf = getAttr(node, 'value_float');
  if (vf) return create(TensorProtoSchema, { dataType: DT.FLOAT, dims: [], floatData: [vf.f] });
  const vfs = getAttr(node, 'value_floats');
  if (vfs)
    return create(TensorProtoSchema, { dataType: DT.FLOAT, dims: [BigInt(vfs.floats.length)], floatData: vfs.floats });
  const vi = getAttr(node, 'value_int');
  if (vi) return create(TensorProtoSchema, { dataType: DT.INT64, dims: [], int64Data: [vi.i] });
  const vis = getAttr(node, 'value_ints');
  if (vis)
    return create(TensorProtoSchema, { dataType: DT.INT64, dims: [BigInt(vis.ints.length)], int64Data: vis.ints });
  return undefined; // sparse_value or string values stay as nodes
}

function hoistInGraph(graph: GraphProto, needsInput: boolean): number {
  const keep = [];
  let hoisted = 0;
  for (const node of graph.node) {
    for (const a of node.attribute) {
      if (a.g) hoisted += hoistInGraph(a.g, false);
      for (const g of a.graphs) hoisted += hoistInGraph(g, false);
    }
    const tensor =
      node.opType === 'Constant' && (node.domain === '' || node.domain === 'ai.onnx')
        ? constantTensor(node)
        : undefined;
    if (!tensor || !node.output[0]) {
      keep.push(node);
      continue;
    }
    tensor.name = node.output[0];
    graph.initializer.push(tensor);
    if (needsInput) graph.input.push(makeValueInfo(tensor.name, tensor.dataType, tensor.dims.map(Number)));
    hoisted++;
  }
  graph.node = keep;
  return hoisted;
}

export function hoistConstants(model: ModelProto): { model: ModelProto; hoisted: number } {
  const out = clone(ModelProtoSchema, model);
  const hoisted = hoistInGraph(out.graph!, out.irVersion < 4n);
  return { model: out, hoisted };
}
