/**
 * Bias correction's graph side: subtracts a per-output-channel correction c (core/algorithms/
 * biasCorrection.ts, measured by runtime/modelAlgorithms.ts) from a Conv's or Gemm's bias (created when
 * absent), or, for a MatMul, from the constant vector of the Add that follows it (an Add is inserted
 * when there is none). A bias shared with another node is copied first, so only this node changes.
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { indexGraph, pruneInitializers, uniqueNamer } from '../graph';
import { attrFloat, bytesOf, dimsOf, makeNode, makeTensor, type ModelProto } from '../proto';
import { DT, readFloat32 } from '../tensor';

/**
 * The corrected model, and the tensors renamed on the way (a MatMul's output that an inserted Add now
 * takes: new name → the original, whose calibrated range it shares).
 */
export function correctBiases(
  model: ModelProto,
  corrections: ReadonlyMap<string, Float64Array>,
): { model: ModelProto; renamed: Map<string, string> } {
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph!;
  const name = uniqueNamer(graph);
  const renamed = new Map<string, string>();
  for (const [nodeName, c] of corrections) {
    const index = indexGraph(graph);
    const node = graph.node.find((n) => n.name === nodeName);
    if (!node) continue;
    const n = c.length;
    const corrected = (bias: Float32Array | null, scale = 1) =>
      Float32Array.from(c, (v, i) => (bias ? bias[i]! : 0) - v / scale);
    if (node.opType === 'Conv' || node.opType === 'Gemm') {
      const bt = node.input[2] ? index.initializers.get(node.input[2]) : undefined;
      if (node.input[2] && (!bt || bt.dataType !== DT.FLOAT || dimsOf(bt).join() !== String(n))) continue;
      // Gemm adds beta·C: the correction goes in divided by beta
      const beta = node.opType === 'Gemm' && bt ? attrFloat(node, 'beta', 1) : 1;
      const b = corrected(bt ? readFloat32(bt) : null, beta);
      const bName = name(`${nodeName}_corrected_bias`);
      graph.initializer.push(makeTensor(bName, DT.FLOAT, [n], bytesOf(b)));
      while (node.input.length < 3) node.input.push('');
      node.input[2] = bName;
      continue;
    }
    // MatMul: the Add after it when it adds a constant [N] vector, else a new Add
    const y = node.output[0]!;
    const users = index.consumers.get(y) ?? [];
    const add = users.length === 1 && !index.graphOutputs.has(y) && users[0]!.opType === 'Add' ? users[0]! : null;
    const ci = add ? add.input.findIndex((t) => t !== y && index.initializers.has(t)) : -1;
    const ct = ci >= 0 ? index.initializers.get(add!.input[ci]!)! : undefined;
    if (add && ct && ct.dataType === DT.FLOAT && dimsOf(ct).join() === String(n)) {
      const bName = name(`${nodeName}_corrected_bias`);
      graph.initializer.push(makeTensor(bName, DT.FLOAT, [n], bytesOf(corrected(readFloat32(ct)))));
      add.input[ci] = bName;
      continue;
    }
    const raw = name(`${y}_uncorrected`);
    const bName = name(`${nodeName}_correction`);
    graph.initializer.push(makeTensor(bName, DT.FLOAT, [n], bytesOf(corrected(null))));
    node.output[0] = raw;
    renamed.set(raw, y);
    graph.node.splice(
      graph.node.indexOf(node) + 1,
      0,
      makeNode('Add', [raw, bName], [y], name(`${nodeName}_bias_correction`)),
    );
  }
  pruneInitializers(graph);
  return { model: out, renamed };
}
