/** A node with weight variants as nested Ifs, one branch per variant (the switchboard's weight gates). */
import { clone, create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, GraphProtoSchema, NodeProtoSchema } from 'onnx-buf';
import { AttrType, makeNode, makeValueInfo, type GraphProto, type NodeProto } from './proto';
import { DT } from './tensor';

/**
 * A weighted node with weight variants as nested Ifs: If(enable_1, then: the node reading variant 1's
 * weights, else: If(enable_2, ...) else: the node itself). Only the branch taken runs, and each branch's
 * weights are constants of its own graph, so onnxruntime prepacks them and keeps its layout
 * optimizations (a Where on the weight made them run-time values: a sweep ran 6x slower than the model).
 */
export function selectByIf(
  node: NodeProto,
  branches: readonly { enable: string; inputs: ReadonlyMap<number, string> }[],
  name: (base: string) => string,
): NodeProto {
  const branchGraph = (inputs: ReadonlyMap<number, string> | null, tag: string): GraphProto => {
    const copy = clone(NodeProtoSchema, node);
    copy.name = name(`${node.name}_${tag}`);
    if (inputs) for (const [i, t] of inputs) copy.input[i] = t;
    copy.output = node.output.map((o) => name(`${o}_${tag}`));
    return create(GraphProtoSchema, {
      name: name(`${node.name}_${tag}_graph`),
      node: [copy],
      output: copy.output.map((o) => makeValueInfo(o, DT.FLOAT)),
    });
  };
  let elseGraph = branchGraph(null, 'float');
  for (let k = branches.length - 1; k >= 0; k--) {
    const b = branches[k]!;
    const outs = k === 0 ? node.output : node.output.map((o) => name(`${o}_sel${k}`));
    const iff = makeNode('If', [b.enable], outs, name(`${node.name}_switch${k}`));
    iff.attribute.push(
      create(AttributeProtoSchema, { name: 'then_branch', type: AttrType.GRAPH, g: branchGraph(b.inputs, `v${k}`) }),
      create(AttributeProtoSchema, { name: 'else_branch', type: AttrType.GRAPH, g: elseGraph }),
    );
    if (k === 0) return iff;
    elseGraph = create(GraphProtoSchema, {
      name: name(`${node.name}_sel${k}_graph`),
      node: [iff],
      output: outs.map((o) => makeValueInfo(o, DT.FLOAT)),
    });
  }
  return node;
}
