/**
 * SmoothQuant's graph side (Xiao et al. 2022; mit-han-lab/smoothquant smoothquant/smooth.py
 * smooth_ln_fcs, which divides the LayerNorm's weight and bias by s and multiplies each following
 * Linear's weight by s): given per-channel scales s for an activation X that feeds MatMul/Gemm nodes
 * with constant weights, each weight's input row j is multiplied by s_j and X's channel j divided by
 * s_j, so X·W is unchanged. The division is folded into what produces X when X feeds nothing else:
 * a LayerNormalization over the last axis (its scale and bias), or a MatMul/Gemm with a constant weight
 * (its output columns and bias); otherwise a Mul by 1/s is inserted before the smoothed nodes.
 * The candidates (smoothableGroups) are the runtime's to measure (runtime/modelAlgorithms.ts).
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { indexGraph, pruneInitializers, uniqueNamer, type GraphIndex } from '../graph';
import {
  attrFloat,
  attrInt,
  bytesOf,
  dimsOf,
  makeNode,
  makeTensor,
  type GraphProto,
  type ModelProto,
  type NodeProto,
} from '../proto';
import { DT, readFloat32 } from '../tensor';

/** An activation and the MatMul/Gemm nodes (constant float weights) it feeds. */
export interface SmoothGroup {
  readonly input: string;
  readonly nodes: readonly string[];
  /** Channels of the activation's last axis (the weights' input rows). */
  readonly channels: number;
}

export interface SmoothedReport {
  readonly input: string;
  readonly nodes: readonly string[];
  /** Where 1/s went. */
  readonly foldedInto: 'LayerNormalization' | 'MatMul' | 'Gemm' | 'Mul';
  /** max_j max|X_j| / median_j max|X_j| before: how strong the outliers were. */
  readonly outlierRatio: number;
}

/** A MatMul's or Gemm's weight rows along its input channels: [K, N] (row j contiguous) or, transB, [N, K]. */
function weightLayout(node: NodeProto, index: GraphIndex): { k: number; n: number; transB: boolean } | null {
  if (node.opType !== 'MatMul' && node.opType !== 'Gemm') return null;
  const wt = index.initializers.get(node.input[1] ?? '');
  if (!wt || wt.dataType !== DT.FLOAT || wt.dims.length !== 2 || index.initializers.has(node.input[0] ?? ''))
    return null;
  if (node.opType === 'Gemm' && (attrInt(node, 'transA', 0) !== 0 || attrFloat(node, 'alpha', 1) !== 1)) return null;
  const transB = node.opType === 'Gemm' && attrInt(node, 'transB', 0) === 1;
  const [d0, d1] = dimsOf(wt) as [number, number];
  return transB ? { k: d1, n: d0, transB } : { k: d0, n: d1, transB };
}

/** Every activation that feeds MatMul/Gemm nodes with constant float weights, with those nodes. */
export function smoothableGroups(model: ModelProto): SmoothGroup[] {
  const g = model.graph!;
  const index = indexGraph(g);
  const groups = new Map<string, { nodes: string[]; channels: number }>();
  for (const node of g.node) {
    const l = weightLayout(node, index);
    if (!l) continue;
    const x = node.input[0]!;
    const grp = groups.get(x) ?? { nodes: [], channels: l.k };
    if (grp.channels !== l.k) continue;
    grp.nodes.push(node.name);
    groups.set(x, grp);
  }
  return [...groups].map(([input, v]) => ({ input, ...v }));
}

/** w along `rows × cols` (row-major) with row j (or column j) multiplied by f[j]. */
function scaleRows(w: Float32Array, rows: number, cols: number, f: ArrayLike<number>, byColumn: boolean): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = w[r * cols + c]! * f[byColumn ? c : r]!;
  return out;
}

function replaceInit(graph: GraphProto, name: (b: string) => string, base: string, dims: number[], data: Float32Array) {
  const n = name(`${base}_smoothed`);
  graph.initializer.push(makeTensor(n, DT.FLOAT, dims, bytesOf(data)));
  return n;
}

/** Divides what `producer` writes along its last axis by s, when it can; false when it cannot. */
function foldIntoProducer(
  graph: GraphProto,
  index: GraphIndex,
  name: (b: string) => string,
  producer: NodeProto,
  inv: Float32Array,
): boolean {
  const c = inv.length;
  if (producer.opType === 'LayerNormalization') {
    const scale = index.initializers.get(producer.input[1] ?? '');
    const bias = producer.input[2] ? index.initializers.get(producer.input[2]) : undefined;
    if (!scale || scale.dataType !== DT.FLOAT || (producer.input[2] && !bias)) return false;
    if (attrInt(producer, 'axis', -1) !== -1 || dimsOf(scale).join() !== String(c)) return false;
    if (producer.output.length > 1 && producer.output.slice(1).some((o) => o)) return false; // mean/inv-std used
    producer.input[1] = replaceInit(graph, name, scale.name, [c], scaleRows(readFloat32(scale), 1, c, inv, true));
    if (bias)
      producer.input[2] = replaceInit(graph, name, bias.name, [c], scaleRows(readFloat32(bias), 1, c, inv, true));
    return true;
  }
  const l = weightLayout(producer, index);
  if (!l || l.n !== c) return false;
  const wt = index.initializers.get(producer.input[1]!)!;
  const bias = producer.input[2] ? index.initializers.get(producer.input[2]) : undefined;
  if (producer.input[2] && (!bias || bias.dataType !== DT.FLOAT || dimsOf(bias).join() !== String(c))) return false;
  if (bias && attrFloat(producer, 'beta', 1) !== 1) return false;
  // output channel j of the producer: column j of [K, N], row j of [N, K]
  const w = l.transB
    ? scaleRows(readFloat32(wt), l.n, l.k, inv, false)
    : scaleRows(readFloat32(wt), l.k, l.n, inv, true);
  producer.input[1] = replaceInit(graph, name, wt.name, dimsOf(wt), w);
  if (bias) producer.input[2] = replaceInit(graph, name, bias.name, [c], scaleRows(readFloat32(bias), 1, c, inv, true));
  return true;
}

/**
 * Applies smoothing scales: `scales` by activation name (one value per channel of its last axis), for
 * groups from smoothableGroups. `outlierRatio` is the caller's measure, passed through to the report.
 */
export function applySmoothing(
  model: ModelProto,
  groups: readonly { group: SmoothGroup; scales: Float32Array; outlierRatio: number }[],
): { model: ModelProto; report: SmoothedReport[] } {
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph!;
  const name = uniqueNamer(graph);
  const report: SmoothedReport[] = [];
  for (const { group, scales, outlierRatio } of groups) {
    const index = indexGraph(graph);
    const nodes = group.nodes.map((n) => graph.node.find((x) => x.name === n)!);
    for (const node of nodes) {
      const l = weightLayout(node, index)!;
      const wt = index.initializers.get(node.input[1]!)!;
      // input row j: row j of [K, N], column j of [N, K]
      const w = l.transB
        ? scaleRows(readFloat32(wt), l.n, l.k, scales, true)
        : scaleRows(readFloat32(wt), l.k, l.n, scales, false);
      node.input[1] = replaceInit(graph, name, wt.name, dimsOf(wt), w);
    }
    const inv = Float32Array.from(scales, (s) => 1 / s);
    const producer = index.producer.get(group.input);
    const consumers = index.consumers.get(group.input) ?? [];
    const alone =
      consumers.length === nodes.length &&
      consumers.every((c) => nodes.includes(c)) &&
      !index.graphOutputs.has(group.input);
    let foldedInto: SmoothedReport['foldedInto'] = 'Mul';
    if (producer && alone && foldIntoProducer(graph, index, name, producer, inv))
      foldedInto = producer.opType as SmoothedReport['foldedInto'];
    else {
      const invName = name(`${group.input}_smooth_inverse`);
      const smoothed = name(`${group.input}_smoothed`);
      graph.initializer.push(makeTensor(invName, DT.FLOAT, [inv.length], bytesOf(inv)));
      const mul = makeNode('Mul', [group.input, invName], [smoothed], name(`${group.input}_SmoothQuant_Mul`));
      for (const node of nodes) node.input[0] = smoothed;
      // right after the producer (or first, for a graph input) keeps the node list topologically sorted
      const at = producer ? graph.node.indexOf(producer) + 1 : 0;
      graph.node.splice(at, 0, mul);
    }
    report.push({ input: group.input, nodes: group.nodes, foldedInto, outlierRatio });
  }
  pruneInitializers(graph);
  return { model: out, report };
}
