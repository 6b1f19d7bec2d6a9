/**
 * Cross-layer equalization over a graph (Nagel et al. 2019, §4.1; the scales are core/algorithms/
 * equalization.ts's, as AIMET computes them): for two Conv (or two Gemm) nodes joined by a positively
 * homogeneous function (f(s·x) = s·f(x) for s > 0: Relu, PRelu, LeakyRelu, or nothing), the first
 * layer's output channel i and bias are divided by Sᵢ and the second layer's input channel i multiplied
 * by it, so the float model computes the same function while both weights' per-channel ranges meet
 * at sqrt(r1ᵢ·r2ᵢ) (what per-tensor weight scales need). Pairs run in graph order, so a chain
 * Conv → Relu → Conv → Relu → Conv is equalized pair by pair, each with its predecessor's new weights.
 * A candidate pair (two such layers joined by one single-consumer unary op) that cannot be equalized is
 * reported with the reason: HardSwish, Sigmoid, Clip (ReLU6) and the like are not positively homogeneous.
 * `choose` says which pairs to equalize, by their first node (the configuration's per-node choice).
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { equalizationScales } from '../../core/algorithms/equalization';
import { indexGraph, pruneInitializers, uniqueNamer, type GraphIndex } from '../graph';
import {
  attrFloat,
  attrInt,
  bytesOf,
  dimsOf,
  makeTensor,
  type GraphProto,
  type ModelProto,
  type NodeProto,
} from '../proto';
import { DT, readFloat32 } from '../tensor';

/** f(s·x) = s·f(x) for s > 0, per channel: the scaling passes through them. */
const HOMOGENEOUS = new Set(['Relu', 'PRelu', 'LeakyRelu']);

export interface EqualizedPairReport {
  readonly first: string;
  readonly second: string;
  /** The op between them ('' when they are joined directly). */
  readonly via: string;
  /** max over channels of r1/r2 before (how uneven the ranges were); 1 after. */
  readonly maxRatioBefore: number;
}

export interface SkippedPairReport {
  readonly first: string;
  readonly second: string;
  readonly reason: string;
}

export interface EqualizationReport {
  readonly pairs: EqualizedPairReport[];
  readonly skipped: SkippedPairReport[];
}

/** A layer's weight seen as [out channels][in channels][rest]: where each channel lives in the flat array. */
interface LayerView {
  readonly node: NodeProto;
  readonly weight: Float32Array;
  readonly dims: number[];
  readonly outChannels: number;
  readonly inChannels: number;
  /** Flat indices of output channel o's values. */
  readonly outIndices: (o: number) => Iterable<number>;
  /** Flat indices of input channel i's values (over every output row that reads it). */
  readonly inIndices: (i: number) => Iterable<number>;
}

function* range(start: number, count: number, step = 1): Iterable<number> {
  for (let k = 0; k < count; k++) yield start + k * step;
}

/** The layer's constant float weight as channels, or why it has none. */
function layerView(node: NodeProto, index: GraphIndex): LayerView | string {
  const wt = index.initializers.get(node.input[1] ?? '');
  if (!wt || wt.dataType !== DT.FLOAT) return `"${node.name}" has no constant float32 weight`;
  if (node.input[2] && !index.initializers.has(node.input[2])) return `"${node.name}" has a computed bias`;
  const dims = dimsOf(wt);
  const weight = readFloat32(wt);
  if (node.opType === 'Conv') {
    const [m, cg] = dims as [number, number];
    const ks = dims.slice(2).reduce((a, b) => a * b, 1);
    const group = attrInt(node, 'group', 1);
    const mg = m / group;
    return {
      node,
      weight,
      dims,
      outChannels: m,
      inChannels: cg * group,
      outIndices: (o) => range(o * cg * ks, cg * ks),
      // input channel i feeds group ⌊i / cg⌋'s output rows, at position i mod cg of their kernels
      inIndices: function* (i) {
        const g = Math.floor(i / cg);
        const j = i % cg;
        for (let o = g * mg; o < (g + 1) * mg; o++) yield* range((o * cg + j) * ks, ks);
      },
    };
  }
  // Gemm: Y = X·B (+ C), B [K, N], or [N, K] with transB
  if (dims.length !== 2) return `"${node.name}" has a weight of rank ${dims.length}`;
  if (attrInt(node, 'transA', 0) !== 0 || attrFloat(node, 'alpha', 1) !== 1)
    return `"${node.name}" has transA or alpha set`;
  if (node.input[2] && attrFloat(node, 'beta', 1) !== 1) return `"${node.name}" has beta set`;
  const transB = attrInt(node, 'transB', 0) === 1;
  const [d0, d1] = dims as [number, number];
  const [n, k] = transB ? [d0, d1] : [d1, d0];
  return {
    node,
    weight,
    dims,
    outChannels: n,
    inChannels: k,
    outIndices: (o) => (transB ? range(o * k, k) : range(o, k, n)),
    inIndices: (i) => (transB ? range(i, n, k) : range(i * n, n)),
  };
}

function absMax(w: Float32Array, idx: Iterable<number>): number {
  let m = 0;
  for (const i of idx) m = Math.max(m, Math.abs(w[i]!));
  return m;
}

/** The second layer and the op between, when `first`'s output runs into one through at most one unary op. */
function follower(first: NodeProto, index: GraphIndex): { via: NodeProto | null; second: NodeProto } | null {
  const out = first.output[0]!;
  const c1 = index.consumers.get(out) ?? [];
  if (c1.length !== 1 || index.graphOutputs.has(out)) return null;
  const next = c1[0]!;
  if (next.opType === first.opType && next.input[0] === out) return { via: null, second: next };
  const mid = next.output[0];
  const c2 = mid ? (index.consumers.get(mid) ?? []) : [];
  if (next.input[0] !== out || c2.length !== 1 || index.graphOutputs.has(mid!)) return null;
  const second = c2[0]!;
  if (second.opType !== first.opType || second.input[0] !== mid) return null;
  return { via: next, second };
}

/** Ops an activation function is built from when an exporter decomposes it (HardSwish as x·Clip(x+3, 0, 6)/6, SiLU as x·Sigmoid(x)). */
const ELEMENTWISE = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Clip',
  'HardSigmoid',
  'Sigmoid',
  'HardSwish',
  'Tanh',
  'Relu',
]);

/**
 * When `first`'s output reaches one next layer of its kind only through a small elementwise subgraph (a
 * decomposed activation), that layer and the ops between: a pair that cannot be equalized, reported.
 */
function decomposedFollower(first: NodeProto, index: GraphIndex): { ops: string[]; second: NodeProto } | null {
  const seen = new Set<NodeProto>();
  const ops: string[] = [];
  let second: NodeProto | null = null;
  let frontier = [first.output[0]!];
  for (let depth = 0; depth < 6 && frontier.length; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      if (index.graphOutputs.has(t)) return null;
      for (const c of index.consumers.get(t) ?? []) {
        if (seen.has(c)) continue;
        seen.add(c);
        if (c.opType === first.opType && c.input[0] === t) {
          if (second) return null;
          second = c;
        } else if (ELEMENTWISE.has(c.opType)) {
          ops.push(c.opType);
          next.push(...c.output);
        } else return null;
      }
    }
    frontier = next;
  }
  return second && frontier.length === 0 && ops.length > 1 ? { ops, second } : null;
}

function setInitializer(
  graph: GraphProto,
  name: (b: string) => string,
  base: string,
  dims: number[],
  data: Float32Array,
) {
  const n = name(`${base}_equalized`);
  graph.initializer.push(makeTensor(n, DT.FLOAT, dims, bytesOf(data)));
  return n;
}

/**
 * Whether the pair `first` starts is equalized (core/algorithms/choices.ts: the first node owns the
 * pair): true, false (left alone, not reported), or the reason it is left alone (reported as skipped).
 */
export type PairChoice = (first: NodeProto) => boolean | string;

export function equalizeModel(
  model: ModelProto,
  choose: PairChoice = () => true,
): { model: ModelProto; report: EqualizationReport } {
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph!;
  const name = uniqueNamer(graph);
  const pairs: EqualizedPairReport[] = [];
  const skipped: SkippedPairReport[] = [];
  for (const first of [...graph.node]) {
    if (first.opType !== 'Conv' && first.opType !== 'Gemm') continue;
    const chosen = choose(first);
    if (chosen === false) continue;
    const index = indexGraph(graph); // earlier pairs replaced initializers
    const f = follower(first, index);
    if (!f) {
      if (chosen !== true) continue;
      const d = decomposedFollower(first, index);
      if (d)
        skipped.push({
          first: first.name,
          second: d.second.name,
          reason: `joined by ${[...new Set(d.ops)].join(', ')}, not one positively homogeneous op (e.g. HardSwish decomposed as x·Clip(x+3, 0, 6)/6)`,
        });
      continue;
    }
    const skip = (reason: string) => skipped.push({ first: first.name, second: f.second.name, reason });
    if (chosen !== true) {
      skip(chosen);
      continue;
    }
    if (f.via && !HOMOGENEOUS.has(f.via.opType)) {
      skip(`${f.via.opType} between them is not positively homogeneous (f(s·x) ≠ s·f(x))`);
      continue;
    }
    const a = layerView(first, index);
    const b = layerView(f.second, index);
    if (typeof a === 'string' || typeof b === 'string') {
      skip(typeof a === 'string' ? a : (b as string));
      continue;
    }
    if (a.outChannels !== b.inChannels) {
      skip(`${a.outChannels} output channels feed ${b.inChannels} input channels`);
      continue;
    }
    const r1 = Float64Array.from({ length: a.outChannels }, (_, i) => absMax(a.weight, a.outIndices(i)));
    const r2 = Float64Array.from({ length: b.inChannels }, (_, i) => absMax(b.weight, b.inIndices(i)));
    const s = equalizationScales(r1, r2);
    const w1 = Float32Array.from(a.weight);
    const w2 = Float32Array.from(b.weight);
    for (let i = 0; i < s.length; i++) {
      const inv = Math.fround(1 / s[i]!);
      for (const k of a.outIndices(i)) w1[k] = a.weight[k]! * inv;
      for (const k of b.inIndices(i)) w2[k] = b.weight[k]! * s[i]!;
    }
    first.input[1] = setInitializer(graph, name, first.input[1]!, a.dims, w1);
    f.second.input[1] = setInitializer(graph, name, f.second.input[1]!, b.dims, w2);
    if (first.input[2]) {
      const bias = readFloat32(index.initializers.get(first.input[2])!);
      const b1 = Float32Array.from(bias, (v, i) => v * Math.fround(1 / s[i]!));
      first.input[2] = setInitializer(graph, name, first.input[2], [b1.length], b1);
    }
    let maxRatio = 0;
    for (let i = 0; i < s.length; i++) if (r2[i]! > 0) maxRatio = Math.max(maxRatio, r1[i]! / r2[i]!, r2[i]! / r1[i]!);
    pairs.push({ first: first.name, second: f.second.name, via: f.via?.opType ?? '', maxRatioBefore: maxRatio });
  }
  pruneInitializers(graph);
  return { model: out, report: { pairs, skipped } };
}
