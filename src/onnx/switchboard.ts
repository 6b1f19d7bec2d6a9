/**
 * The switchboard model: one model that is every quantization configuration at once, so a single
 * onnxruntime session serves a whole sensitivity sweep or tuning search (no session per node).
 *
 *   activation t (index j):  If(act_e16[j], DQ(Q(t, s16[j], z16[j])), If(act_e8[j], DQ(Q(t, s8[j], z8[j])), t))
 *   weighted node n:         If(w_key1[n], n reading DQ_key1(W), If(w_key2[n], n reading DQ_key2(W), n))
 * (the issue's Where(enable, DQ(Q(x)), x), as If so that only the branch taken runs: with Where every
 * branch ran on every call, 15x the float model's time on PP-OCRv4 rec)
 *
 * The enables, scales and zero points are graph inputs (vectors, one entry per tensor or node, picked
 * with Gather), so a configuration is a set of feeds. The weights' DequantizeLinear nodes and their
 * integer initializers are borrowed unchanged from real exports of the same prepared model (one per
 * weight variant: int8 per channel, int4 blocks, ...), so every weight value equals the exported
 * file's. With every enable false the model computes the float model exactly (Where copies `t`).
 *
 * Where it differs from a separately built file: there the scales are constants, and onnxruntime
 * fuses DQ → op → Q into integer kernels (QLinearConv, MatMulIntegerToFloat, ...; onnxruntime
 * core/optimizer/qdq_transformer), which accumulate in int32 and requantize once; here the scales are
 * inputs, nothing fuses, and each op runs in float32 on dequantized values. Int32 biases come from the
 * variant export's input scale (the base ranges). The test measures the difference.
 */
import { clone, create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, TensorProtoSchema } from 'onnx-buf';
import { DTYPES, type IntDType } from '../core/dtype';
import { QuantscopeError } from '../core/errors';
import { indexGraph, uniqueNamer } from './graph';
import { upgradeOpset } from './passes/upgradeOpset';
import {
  AttrType,
  bytesOf,
  defaultOpset,
  makeNode,
  makeTensor,
  makeValueInfo,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from './proto';
import { DT, tensorByteSize } from './tensor';
import { selectByIf } from './selectByIf';

/** An export of the same prepared model whose weight DequantizeLinear nodes the switchboard borrows. */
export interface WeightVariantModel {
  readonly key: string;
  readonly model: ModelProto;
}

export interface SwitchboardSpec {
  /** Activation tensors that get a gated Q/DQ, in graph order. */
  readonly activations: readonly string[];
  /** One gated branch per dtype (e.g. int8 and int16). */
  readonly activationDtypes: readonly IntDType[];
  readonly weightVariants: readonly WeightVariantModel[];
}

export interface SwitchboardWeightNode {
  readonly node: string;
  readonly opType: string;
  /** Float bytes of the initializers the variants replace. */
  readonly floatBytes: number;
  /** Variant key → bytes of that variant's initializers (codes, scales, zero points) for this node. */
  readonly variantBytes: ReadonlyMap<string, number>;
}

export interface Switchboard {
  readonly model: ModelProto;
  readonly activations: readonly string[];
  readonly activationDtypes: readonly IntDType[];
  readonly weightNodes: readonly SwitchboardWeightNode[];
  readonly weightVariants: readonly string[];
  /** Outputs of the borrowed weight DequantizeLinear nodes (constant: see frozenWeights). */
  readonly weightDqOutputs: readonly string[];
  /** Control input names. */
  readonly inputs: {
    readonly actEnable: ReadonlyMap<IntDType, string>;
    readonly actScale: ReadonlyMap<IntDType, string>;
    readonly actZeroPoint: ReadonlyMap<IntDType, string>;
    readonly weightEnable: ReadonlyMap<string, string>;
  };
}

const BOOL = 9;

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Borrowed DQ chains per node: input index → the DQ node and its initializers (from one variant). */
function borrowedInputs(
  prepared: ModelProto,
  variant: ModelProto,
): Map<string, Map<number, { dq: NodeProto; inits: TensorProto[] }>> {
  const base = new Map(prepared.graph!.node.map((n) => [n.name, n]));
  const baseInits = new Set(prepared.graph!.initializer.map((t) => t.name));
  const vIndex = indexGraph(variant.graph!);
  const out = new Map<string, Map<number, { dq: NodeProto; inits: TensorProto[] }>>();
  for (const vn of variant.graph!.node) {
    const bn = base.get(vn.name);
    if (!bn || bn.opType !== vn.opType) continue;
    vn.input.forEach((vi, i) => {
      const bi = bn.input[i];
      if (!bi || vi === bi || !baseInits.has(bi)) return;
      const dq = vIndex.producer.get(vi);
      if (!dq || dq.opType !== 'DequantizeLinear') return;
      const inits = dq.input.filter((x) => x).map((x) => vIndex.initializers.get(x));
      if (inits.some((t) => !t)) return;
      const m = out.get(vn.name) ?? new Map();
      m.set(i, { dq, inits: inits as TensorProto[] });
      out.set(vn.name, m);
    });
  }
  return out;
}

export function buildSwitchboard(prepared: ModelProto, spec: SwitchboardSpec): Switchboard {
  const wide = spec.activationDtypes.some((d) => DTYPES[d].bits !== 8);
  const target = Math.max(wide ? 21 : 13, ...spec.weightVariants.map((v) => defaultOpset(v.model)));
  const upgraded = upgradeOpset(prepared, target).model;
  const model = upgraded === prepared ? clone(ModelProtoSchema, prepared) : upgraded;
  const g = model.graph!;
  const index = indexGraph(g);
  const name = uniqueNamer(g);
  const head: NodeProto[] = [];
  const after = new Map<string, NodeProto[]>();
  const newInits: TensorProto[] = [];
  const indexConst = new Map<number, string>();
  const idx = (j: number): string => {
    let n = indexConst.get(j);
    if (!n) {
      n = name(`qs_index_${j}`);
      newInits.push(makeTensor(n, DT.INT64, [], bytesOf(BigInt64Array.of(BigInt(j)))));
      indexConst.set(j, n);
    }
    return n;
  };
  const gather = (vector: string, j: number, base: string): string => {
    const o = name(base);
    head.push(makeNode('Gather', [vector, idx(j)], [o], name(`${base}_Gather`), { axis: 0 }));
    return o;
  };

  // Control inputs.
  const actEnable = new Map<IntDType, string>();
  const actScale = new Map<IntDType, string>();
  const actZeroPoint = new Map<IntDType, string>();
  const weightEnable = new Map<string, string>();
  const nAct = spec.activations.length;
  for (const d of spec.activationDtypes) {
    actEnable.set(d, name(`qs_act_enable_${d}`));
    actScale.set(d, name(`qs_act_scale_${d}`));
    actZeroPoint.set(d, name(`qs_act_zero_point_${d}`));
    g.input.push(makeValueInfo(actEnable.get(d)!, BOOL, [nAct]));
    g.input.push(makeValueInfo(actScale.get(d)!, DT.FLOAT, [nAct]));
    g.input.push(makeValueInfo(actZeroPoint.get(d)!, DTYPES[d].onnx, [nAct]));
  }

  // Activations: gated Q/DQ branches after the producer, consumers rewired.
  const rewire = new Map<string, string>();
  spec.activations.forEach((t, j) => {
    if (!index.producer.has(t) && !index.graphInputs.has(t))
      throw new QuantscopeError('BAD_TENSOR', `switchboard: no tensor "${t}" in the model`);
    // nested Ifs, so only the branch taken runs: If(enable_dN, Q/DQ_dN, ... If(enable_d1, Q/DQ_d1, Identity))
    const sub = (nodes: NodeProto[], out: string): GraphProto =>
      create(GraphProtoSchema, { name: name(`${out}_graph`), node: nodes, output: [makeValueInfo(out, DT.FLOAT)] });
    const idOut = name(`qs_${safe(t)}_float`);
    let elseGraph = sub([makeNode('Identity', [t], [idOut], name(`qs_${safe(t)}_Identity`))], idOut);
    let current = t;
    const nodes: NodeProto[] = [];
    spec.activationDtypes.forEach((d, k) => {
      const tag = `${safe(t)}_${d}`;
      const s = gather(actScale.get(d)!, j, `qs_${tag}_scale`);
      const z = gather(actZeroPoint.get(d)!, j, `qs_${tag}_zero_point`);
      const e = gather(actEnable.get(d)!, j, `qs_${tag}_enable`);
      const q = name(`qs_${tag}_q`);
      const dq = name(`qs_${tag}_dq`);
      const thenGraph = sub(
        [
          makeNode('QuantizeLinear', [t, s, z], [q], name(`qs_${tag}_QuantizeLinear`)),
          makeNode('DequantizeLinear', [q, s, z], [dq], name(`qs_${tag}_DequantizeLinear`)),
        ],
        dq,
      );
      const w = name(`qs_${tag}_switch`);
      const iff = makeNode('If', [e], [w], name(`qs_${tag}_If`));
      iff.attribute.push(
        create(AttributeProtoSchema, { name: 'then_branch', type: AttrType.GRAPH, g: thenGraph }),
        create(AttributeProtoSchema, { name: 'else_branch', type: AttrType.GRAPH, g: elseGraph }),
      );
      current = w;
      if (k === spec.activationDtypes.length - 1) nodes.push(iff);
      else elseGraph = sub([iff], w);
    });
    after.set(t, nodes);
    rewire.set(t, current);
  });

  // Weights: each variant's DQ chains, selected per node.
  const borrowed = spec.weightVariants.map((v) => ({ key: v.key, inputs: borrowedInputs(prepared, v.model) }));
  const position = new Map(g.node.map((n, i) => [n.name, i]));
  const weightNodeNames = [...new Set(borrowed.flatMap((b) => [...b.inputs.keys()]))].sort(
    (a, b) => position.get(a)! - position.get(b)!,
  );
  for (const v of spec.weightVariants) {
    const n = name(`qs_weight_${safe(v.key)}`);
    weightEnable.set(v.key, n);
    g.input.push(makeValueInfo(n, BOOL, [weightNodeNames.length]));
  }
  const nodeByName = new Map(g.node.map((n) => [n.name, n]));
  const weightNodes: SwitchboardWeightNode[] = [];
  const weightDqOutputs: string[] = [];
  const selections = new Map<NodeProto, { enable: string; inputs: Map<number, string> }[]>();
  const initByName = index.initializers;
  weightNodeNames.forEach((nodeName, j) => {
    const node = nodeByName.get(nodeName)!;
    const variantBytes = new Map<string, number>();
    const floatInputs = new Set<number>();
    const branches: { enable: string; inputs: Map<number, string> }[] = [];
    for (const b of borrowed) {
      const chains = b.inputs.get(nodeName);
      if (!chains) continue;
      const e = gather(weightEnable.get(b.key)!, j, `qs_${safe(nodeName)}_${safe(b.key)}_enable`);
      let bytes = 0;
      const inputs = new Map<number, string>();
      for (const [i, { dq, inits }] of chains) {
        floatInputs.add(i);
        const renamed = new Map<string, string>();
        for (const t of inits) {
          const nt = clone(TensorProtoSchema, t);
          nt.name = name(`qs_${safe(b.key)}_${t.name}`);
          renamed.set(t.name, nt.name);
          newInits.push(nt);
          bytes += tensorByteSize(t);
        }
        const dqOut = name(`qs_${safe(b.key)}_${safe(nodeName)}_${i}_dq`);
        const dqNode = clone(NodeProtoSchema, dq);
        dqNode.name = name(`qs_${safe(b.key)}_${safe(nodeName)}_${i}_DequantizeLinear`);
        dqNode.input = dq.input.map((x) => (x ? renamed.get(x)! : x));
        dqNode.output = [dqOut];
        head.push(dqNode);
        weightDqOutputs.push(dqOut);
        inputs.set(i, dqOut);
      }
      variantBytes.set(b.key, bytes);
      branches.push({ enable: e, inputs });
    }
    selections.set(node, branches);
    let floatBytes = 0;
    for (const i of floatInputs) floatBytes += tensorByteSize(initByName.get(node.input[i]!)!);
    weightNodes.push({ node: nodeName, opType: node.opType, floatBytes, variantBytes });
  });

  // Lay out: control Gathers and weight selections first, then each node and its gated outputs.
  const nodes: NodeProto[] = [...head];
  for (const v of g.input) nodes.push(...(after.get(v.name) ?? []));
  for (const node of g.node) {
    node.input = node.input.map((t) => rewire.get(t) ?? t);
    const branches = selections.get(node);
    nodes.push(branches ? selectByIf(node, branches, name) : node);
    for (const o of node.output) nodes.push(...(after.get(o) ?? []));
  }
  g.node = nodes;
  g.initializer.push(...newInits);
  return {
    model,
    activations: [...spec.activations],
    activationDtypes: [...spec.activationDtypes],
    weightNodes,
    weightVariants: spec.weightVariants.map((v) => v.key),
    weightDqOutputs,
    inputs: { actEnable, actScale, actZeroPoint, weightEnable },
  };
}
