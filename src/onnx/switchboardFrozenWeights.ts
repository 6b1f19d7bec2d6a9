/** The switchboard's weight DequantizeLinear nodes: as a model of their own, and frozen into float32 constants. */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { QuantscopeError } from '../core/errors';
import { bytesOf, makeTensor, makeValueInfo, type GraphProto, type ModelProto, type TensorProto } from './proto';
import type { Switchboard } from './switchboard';
import { DT } from './tensor';

/** A model of the switchboard's weight DequantizeLinear nodes alone, each output a graph output. */
export function weightDqModel(sb: Switchboard): ModelProto {
  const m = clone(ModelProtoSchema, sb.model);
  const g = m.graph!;
  const wanted = new Set(sb.weightDqOutputs);
  g.node = g.node.filter((n) => n.opType === 'DequantizeLinear' && wanted.has(n.output[0]!));
  g.input = [];
  g.output = sb.weightDqOutputs.map((o) => makeValueInfo(o));
  const read = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => read.has(t.name));
  return m;
}

/**
 * The switchboard with its weight DequantizeLinear nodes replaced by their float32 values, computed
 * once by onnxruntime (so the values are the runtime's own dequantization): onnxruntime does not fold
 * DequantizeLinear, and dequantizing every weight on every run made a sweep 6x slower than the model.
 */
export function frozenWeights(
  sb: Switchboard,
  values: ReadonlyMap<string, { data: Float32Array; dims: readonly number[] }>,
): Switchboard {
  const m = clone(ModelProtoSchema, sb.model);
  const g = m.graph!;
  const frozen = new Set(sb.weightDqOutputs);
  const dropped = new Set<string>();
  g.node = g.node.filter((n) => {
    if (n.opType !== 'DequantizeLinear' || !frozen.has(n.output[0]!)) return true;
    n.input.forEach((x) => x && dropped.add(x));
    return false;
  });
  const stillRead = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => !dropped.has(t.name) || stillRead.has(t.name));
  const tensorOf = (o: string): TensorProto => {
    const v = values.get(o);
    if (!v) throw new QuantscopeError('RUNTIME', `switchboard: no value for weight "${o}"`);
    return makeTensor(o, DT.FLOAT, v.dims, bytesOf(v.data));
  };
  // each value becomes a constant of the If branch that reads it
  const place = (graph: GraphProto): void => {
    for (const n of graph.node) {
      for (const x of n.input) if (frozen.has(x) && graph !== g) graph.initializer.push(tensorOf(x));
      for (const a of n.attribute) if (a.g) place(a.g);
    }
  };
  place(g);
  return { ...sb, model: m, weightDqOutputs: [] };
}
