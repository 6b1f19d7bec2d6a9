/**
 * Pass: a graph's shape arithmetic computed for fixed input shapes. Exporters compute shapes at run
 * time (PaddleOCR's classifier: Shape → Cast → Slice → Cast → Concat → Reshape to [N, -1]; opset 13's
 * Softmax written as Flatten → Softmax → Reshape to Shape(x)); a format without dynamic shapes (TFLite)
 * needs them constant. With the inputs bound to a sample's shapes, every Shape node whose input's shape
 * is then known becomes an int64 initializer (its `start`/`end` applied, Operators.md, Shape) and
 * foldConstants computes what follows from it, round after round while Shape nodes are freed (a
 * Reshape folded to a constant shape makes the shapes after it known). Values are unchanged for inputs
 * of exactly those shapes, and only for them.
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { bytesOf, makeTensor, type ModelProto } from '../proto';
import { inferShapes, shapeSlice } from '../shapeInference';
import { DT } from '../tensor';
import { foldConstants } from './foldConstants';

/** Rounds of freeing and folding; a shape computed from a shape computed from a shape is three. */
const MAX_ROUNDS = 16;

export function freezeShapes(
  model: ModelProto,
  inputDims: Readonly<Record<string, readonly number[]>>,
): { model: ModelProto; shapes: number } {
  let out = model;
  let shapes = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const g = out.graph!;
    const known = inferShapes(g, inputDims);
    const outputs = new Set(g.output.map((v) => v.name));
    const fixed = g.node.flatMap((n) => {
      if (n.opType !== 'Shape' || (n.domain && n.domain !== 'ai.onnx') || outputs.has(n.output[0]!)) return [];
      const dims = known.get(n.input[0]!)?.dims;
      return dims && dims.every((d) => Number.isInteger(d) && d >= 0) ? [{ node: n, dims: shapeSlice(n, dims) }] : [];
    });
    if (fixed.length === 0) break;
    // a copy before the first change: the caller's model stays as it was
    if (out === model) out = clone(ModelProtoSchema, model);
    const graph = out.graph!;
    const gone = new Set(fixed.map((f) => f.node.output[0]));
    graph.node = graph.node.filter((n) => !(n.opType === 'Shape' && gone.has(n.output[0])));
    for (const { node, dims } of fixed)
      graph.initializer.push(
        makeTensor(node.output[0]!, DT.INT64, [dims.length], bytesOf(BigInt64Array.from(dims.map(BigInt)))),
      );
    shapes += fixed.length;
    out = foldConstants(out).model;
  }
  return { model: out, shapes };
}
