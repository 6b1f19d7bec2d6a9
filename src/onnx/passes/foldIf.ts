/**
 * Pass: fold an If whose condition is known once some inputs are fixed (Silero VAD branches on its
 * `sr` input, 8000 or 16000): the condition is evaluated from initializers, Constants and the fixed
 * inputs through a small set of scalar ops, and the If is replaced by the chosen branch's nodes
 * (onnx/docs/Operators.md, If: the branch's outputs become the If's outputs). The branch's
 * initializers move to the main graph; its node names are made unique; a tensor the branch reads from
 * the outer scope keeps its name (it is the same tensor), and a nested subgraph keeps reading the
 * names it read. Ifs whose conditions depend on run-time values stay, and the log says so.
 * The fixed inputs stay graph inputs (unused once folded), so that callers that feed them still work.
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { QuantscopeError } from '../../core/errors';
import { definedNames, uniqueNamer } from '../graph';
import { makeNode, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../proto';
import { DT, readInts } from '../tensor';
import { readFloat32 } from '../tensor';

type Scalar = number | boolean;

function scalarOf(t: TensorProto): Scalar | undefined {
  const n = t.dims.reduce((a, d) => a * Number(d), 1);
  if (n !== 1) return undefined;
  if (t.dataType === DT.FLOAT) return readFloat32(t)[0];
  if (t.dataType === DT.BOOL) return (t.rawData.length ? t.rawData[0] : t.int32Data[0]) !== 0;
  try {
    return readInts(t)[0];
  } catch {
    return undefined;
  }
}

/** Scalars known before run time: initializers, Constant outputs, fixed inputs, and ops over them. */
function knownScalars(graph: GraphProto, fixed: Readonly<Record<string, number>>): Map<string, Scalar> {
  const known = new Map<string, Scalar>(Object.entries(fixed));
  for (const t of graph.initializer) {
    const v = scalarOf(t);
    if (v !== undefined) known.set(t.name, v);
  }
  const num = (v: Scalar | undefined) => (typeof v === 'boolean' ? Number(v) : v);
  for (const n of graph.node) {
    const a = known.get(n.input[0] ?? '');
    const b = known.get(n.input[1] ?? '');
    let out: Scalar | undefined;
    switch (n.opType) {
      case 'Constant': {
        const t = n.attribute.find((x) => x.name === 'value')?.t;
        out = t ? scalarOf(t) : undefined;
        break;
      }
      case 'Identity':
        out = a;
        break;
      case 'Cast':
        out =
          a === undefined
            ? undefined
            : Number(n.attribute.find((x) => x.name === 'to')?.i) === DT.BOOL
              ? Boolean(a)
              : num(a);
        break;
      case 'Not':
        out = a === undefined ? undefined : !a;
        break;
      case 'Equal':
        out = a === undefined || b === undefined ? undefined : num(a) === num(b);
        break;
      case 'Greater':
        out = a === undefined || b === undefined ? undefined : num(a)! > num(b)!;
        break;
      case 'Less':
        out = a === undefined || b === undefined ? undefined : num(a)! < num(b)!;
        break;
      case 'And':
        out = a === undefined || b === undefined ? undefined : Boolean(a) && Boolean(b);
        break;
      case 'Or':
        out = a === undefined || b === undefined ? undefined : Boolean(a) || Boolean(b);
        break;
    }
    if (out !== undefined && n.output[0]) known.set(n.output[0], out);
  }
  return known;
}

export function foldKnownIfs(
  model: ModelProto,
  fixed: Readonly<Record<string, number>>,
): { model: ModelProto; folded: string[]; kept: string[] } {
  const out = clone(ModelProtoSchema, model);
  const g = out.graph!;
  const folded: string[] = [];
  for (;;) {
    const known = knownScalars(g, fixed);
    const index = g.node.findIndex((n) => n.opType === 'If' && known.has(n.input[0]!));
    if (index < 0) break;
    const node = g.node[index]!;
    const cond = Boolean(known.get(node.input[0]!));
    const branch = node.attribute.find((a) => a.name === (cond ? 'then_branch' : 'else_branch'))?.g;
    if (!branch) throw new QuantscopeError('BAD_TENSOR', `If "${node.name}" has no ${cond ? 'then' : 'else'} branch`);
    const mainNames = definedNames(g);
    for (const name of definedNames(branch)) {
      if (mainNames.has(name)) {
        throw new QuantscopeError(
          'UNSUPPORTED_OP',
          `If "${node.name}" is not folded: its branch defines "${name}", a name the main graph uses too`,
        );
      }
    }
    const nodeName = uniqueNamer(g);
    const inlined: NodeProto[] = branch.node.map((n) => {
      n.name = nodeName(n.name || `${n.opType}_inlined`);
      return n;
    });
    // the branch's outputs become the If's outputs
    branch.output.forEach((o, k) => {
      if (node.output[k])
        inlined.push(makeNode('Identity', [o.name], [node.output[k]!], nodeName(`${node.name}_output_${k}`)));
    });
    g.initializer.push(...branch.initializer);
    g.node.splice(index, 1, ...inlined);
    folded.push(`${node.name} (${node.input[0]} = ${cond}: ${cond ? 'then' : 'else'} branch)`);
  }
  const kept = collectIfs(g);
  return { model: out, folded, kept };
}

/** Names of the If nodes left anywhere in a graph. */
function collectIfs(g: GraphProto): string[] {
  const out: string[] = [];
  for (const n of g.node) {
    if (n.opType === 'If' || n.opType === 'Loop' || n.opType === 'Scan') out.push(n.name);
    for (const a of n.attribute) {
      if (a.g) out.push(...collectIfs(a.g));
      for (const sub of a.graphs) out.push(...collectIfs(sub));
    }
  }
  return out;
}
