/**
 * Float formats.
 *
 * float16: every float32 tensor of the graph becomes float16, as onnxconverter-common's
 * convert_float_to_float16 does it, with its two safeguards: `keepIoTypes` (inputs and outputs stay
 * float32, with Cast nodes at the edges, so callers need not change) and a block list of ops kept in
 * float32 with Casts around them (ops onnxruntime has no float16 kernel for, or that lose too much).
 * Initializers are rounded half to even; values past float16's ±65504 are clamped to it (and counted),
 * so that no weight becomes Infinity. Inputs that must stay float32 by the op's definition (Resize's
 * scales) keep a float32 copy.
 *
 * bfloat16 weight storage is in bfloat16.ts.
 */
import { float32ToHalfBits } from '../../core/minifloat';
import { outerScopeReads, uniqueNamer } from '../graph';
import {
  bytesOf,
  cloneSharingInitializers,
  defaultOpset,
  getAttr,
  makeNode,
  makeTensor,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../proto';
import { DT, readFloat32 } from '../tensor';
import { inferElemTypes } from '../types';
import type { FormReport } from './weightOnly';
import { DEFAULT_FP16_BLOCK_LIST, FLOAT32_INPUTS, float32Only } from './float16Ops';

export { DEFAULT_FP16_BLOCK_LIST } from './float16Ops';

const FP16_MAX = 65504;

/** float32 values as float16 bytes, values past ±65504 clamped (and counted). */
export function toHalf(values: Float32Array): { bytes: Uint8Array<ArrayBuffer>; clamped: number } {
  let clamped = 0;
  let source = values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > FP16_MAX || v < -FP16_MAX) {
      if (source === values) source = Float32Array.from(values);
      clamped++;
      source[i] = v > 0 ? FP16_MAX : -FP16_MAX;
    }
  }
  return { bytes: bytesOf(float32ToHalfBits(source)), clamped };
}

export interface Float16Options {
  readonly keepIoTypes?: boolean;
  readonly blockList?: readonly string[];
  /** Node names kept float32. */
  readonly exclude?: readonly string[];
}

export function convertToFloat16(model: ModelProto, o: Float16Options = {}): { model: ModelProto; report: FormReport } {
  const keepIo = o.keepIoTypes ?? true;
  const block = new Set(o.blockList ?? DEFAULT_FP16_BLOCK_LIST);
  const excluded = new Set(o.exclude ?? []);
  const out = cloneSharingInitializers(model);
  const g = out.graph!;
  const name = uniqueNamer(g);
  const types = inferElemTypes(g);
  const isFloat = (t: string) => t !== '' && types.get(t) === DT.FLOAT;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const graphInputs = new Set(g.input.map((v) => v.name));
  const graphOutputs = new Set(g.output.map((v) => v.name));
  // Control flow stays float32 whole: its subgraphs are not converted, and the tensors they read
  // from this scope keep their names and their float32 type.
  const hasSubgraph = (n: NodeProto) => n.attribute.some((a) => a.g || a.graphs.length);
  const opset = defaultOpset(model);
  const kept32 = (n: NodeProto) =>
    block.has(n.opType) ||
    float32Only(n, opset) ||
    excluded.has(n.name) ||
    hasSubgraph(n) ||
    (n.domain !== '' && n.domain !== 'ai.onnx' && n.domain !== 'com.microsoft');
  const outerReads = outerScopeReads(g);
  // Which precision each float tensor is produced in.
  const half = new Set<string>();
  for (const t of g.initializer) if (t.dataType === DT.FLOAT) half.add(t.name);
  if (!keepIo) for (const v of g.input) if (isFloat(v.name)) half.add(v.name);
  for (const n of g.node) if (!kept32(n)) for (const t of n.output) if (isFloat(t)) half.add(t);
  // Initializers read only at float32 positions stay float32; read at both, a float32 copy is kept.
  const reads16 = new Set<string>();
  const reads32 = new Set<string>();
  for (const n of g.node) {
    n.input.forEach((t, i) => {
      if (!isFloat(t)) return;
      (kept32(n) || FLOAT32_INPUTS[n.opType]?.includes(i) ? reads32 : reads16).add(t);
    });
  }
  for (const t of outerReads) if (isFloat(t)) reads32.add(t);
  let clamped = 0;
  const clampedTensors: string[] = [];
  const newInits: TensorProto[] = [];
  const float32Copy = new Map<string, string>();
  // initializers are shared with the caller's model (not copied): converted ones are replaced, never changed
  g.initializer = g.initializer.map((t) => {
    if (t.dataType !== DT.FLOAT) return t;
    if (!reads16.has(t.name) && !graphOutputs.has(t.name)) {
      half.delete(t.name);
      return t;
    }
    const values = readFloat32(t);
    if (reads32.has(t.name)) {
      const copy = name(`${t.name}_fp32`);
      newInits.push(makeTensor(copy, DT.FLOAT, t.dims.map(Number), bytesOf(Float32Array.from(values))));
      float32Copy.set(t.name, copy);
    }
    const h = toHalf(values);
    if (h.clamped) {
      clamped += h.clamped;
      clampedTensors.push(t.name);
    }
    return makeTensor(t.name, DT.FLOAT16, t.dims.map(Number), h.bytes);
  });
  g.initializer.push(...newInits);
  // Casts where a tensor crosses precisions, one per (tensor, direction).
  const casts = new Map<string, string>();
  const castNodes: NodeProto[] = [];
  const castTo = (t: string, to: 'half' | 'float'): string => {
    if (to === 'float' && float32Copy.has(t)) return float32Copy.get(t)!;
    const key = `${t}|${to}`;
    let c = casts.get(key);
    if (!c) {
      c = name(`${t}_${to === 'half' ? 'fp16' : 'fp32'}`);
      castNodes.push(
        makeNode('Cast', [t], [c], name(`${t}_Cast_${to === 'half' ? 'fp16' : 'fp32'}`), {
          to: to === 'half' ? DT.FLOAT16 : DT.FLOAT,
        }),
      );
      casts.set(key, c);
    }
    return c;
  };
  const nodes: NodeProto[] = [];
  const kept: { node: string; opType: string; reason: string }[] = [];
  const why = (n: NodeProto) =>
    excluded.has(n.name)
      ? 'excluded: kept float32'
      : hasSubgraph(n)
        ? 'control flow: its subgraphs stay float32'
        : float32Only(n, opset)
          ? `its type constraints take float32 only (opset ${opset})`
          : block.has(n.opType)
            ? 'block list: kept float32'
            : `domain ${n.domain}: kept float32`;
  for (const n of g.node) {
    const at32 = kept32(n);
    if (at32 && n.output.some(isFloat))
      kept.push({ node: `${n.name} (${n.opType})`, opType: n.opType, reason: why(n) });
    n.input = n.input.map((t, i) => {
      if (!isFloat(t)) return t;
      const wants32 = at32 || FLOAT32_INPUTS[n.opType]?.includes(i);
      if (wants32 && half.has(t)) return castTo(t, 'float');
      if (!wants32 && !half.has(t)) return castTo(t, 'half');
      return t;
    });
    if (!at32) {
      // ops whose attributes name float32 must name float16 now
      if (n.opType === 'Cast' && getAttr(n, 'to')?.i === BigInt(DT.FLOAT)) getAttr(n, 'to')!.i = BigInt(DT.FLOAT16);
      if (n.opType === 'ConstantOfShape') {
        const v = getAttr(n, 'value')?.t;
        if (v && v.dataType === DT.FLOAT) {
          v.rawData = toHalf(readFloat32(v)).bytes;
          v.floatData = [];
          v.dataType = DT.FLOAT16;
        }
      }
      if (n.opType === 'EyeLike' || n.opType === 'RandomNormalLike' || n.opType === 'RandomUniformLike') {
        const d = getAttr(n, 'dtype');
        if (d && d.i === BigInt(DT.FLOAT)) d.i = BigInt(DT.FLOAT16);
      }
    }
    nodes.push(n);
  }
  // Graph outputs: kept float32 (a Cast renames the float16 tensor) or declared float16.
  const rename = new Map<string, string>();
  // A float16 tensor a subgraph reads keeps its name as float32, behind a Cast, like a kept output.
  for (const t of outerReads) {
    if (!isFloat(t) || !half.has(t) || inits.has(t) || graphOutputs.has(t)) continue;
    const inner = name(`${t}_fp16`);
    rename.set(t, inner);
    castNodes.push(makeNode('Cast', [inner], [t], name(`${t}_Cast_fp32`), { to: DT.FLOAT }));
  }
  for (const v of g.output) {
    if (!isFloat(v.name) || !half.has(v.name)) continue;
    if (keepIo) {
      const inner = name(`${v.name}_fp16`);
      rename.set(v.name, inner);
      castNodes.push(makeNode('Cast', [inner], [v.name], name(`${v.name}_Cast_fp32`), { to: DT.FLOAT }));
    } else if (v.type?.value.case === 'tensorType') v.type.value.value.elemType = DT.FLOAT16;
  }
  if (!keepIo)
    for (const v of g.input)
      if (isFloat(v.name) && v.type?.value.case === 'tensorType') v.type.value.value.elemType = DT.FLOAT16;
  const all = [
    ...castNodes.filter((c) => graphInputs.has(c.input[0]!) || inits.has(c.input[0]!)),
    ...nodes,
    ...castNodes.filter((c) => !graphInputs.has(c.input[0]!) && !inits.has(c.input[0]!)),
  ];
  for (const n of all) {
    if (n.opType === 'Cast' && castNodes.includes(n) && rename.has(n.output[0]!)) continue;
    n.input = n.input.map((t) => rename.get(t) ?? t);
    n.output = n.output.map((t) => rename.get(t) ?? t);
  }
  g.node = topologicalOrder(all);
  g.valueInfo = []; // stale types: runtimes infer them again
  const notes = [
    `float16 throughout${keepIo ? ', inputs and outputs kept float32 (Cast at the edges)' : ', inputs and outputs float16'}`,
  ];
  if (clamped)
    notes.push(
      `${clamped} weight values past ±65504 clamped to it (in ${clampedTensors.slice(0, 3).join(', ')}${clampedTensors.length > 3 ? ', …' : ''})`,
    );
  if (kept.length) {
    const named = kept.slice(0, 4).map((k) => k.node);
    notes.push(
      `${kept.length} nodes kept float32 with Casts around them: ${named.join(', ')}${kept.length > 4 ? ', …' : ''}`,
    );
  }
  return {
    model: out,
    report: {
      form: 'float16',
      quantizedNodes: [],
      floatNodes: kept,
      notes,
      opset: defaultOpset(out),
    },
  };
}

/** Nodes reordered so that every input is produced before it is read (Cast nodes were appended). */
function topologicalOrder(nodes: NodeProto[]): NodeProto[] {
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output) producer.set(o, n);
  const done = new Set<NodeProto>();
  const order: NodeProto[] = [];
  const visit = (n: NodeProto, depth: number) => {
    if (done.has(n)) return;
    done.add(n);
    for (const i of n.input) {
      const p = producer.get(i);
      if (p && !done.has(p)) visit(p, depth + 1);
    }
    order.push(n);
  };
  for (const n of nodes) visit(n, 0);
  return order;
}
