/**
 * Static QDQ around control flow: the output of a data-movement node (Transpose, Reshape, ...) that
 * reads a quantized activation and that an If/Loop branch reads from the outer scope gets a Q/DQ pair of
 * its own, with its input's parameters (the values are on that grid already, so nothing changes but the
 * file), and the branch reads the DequantizeLinear. Why: onnxruntime 1.30's basic graph optimizer (its
 * transpose optimizer, which moves Transposes through DQ nodes and repairs the QDQ node units after them)
 * fails to load a DQ → Transpose whose output a subgraph reads ("Graph::AddEdge ... Argument type mismatch
 * when adding edge"; onnxruntime-node aborts on an assertion): Silero VAD legacy's LSTM branch, with sr
 * fixed. onnxruntime's own quantizer writes this pair for every such op (its direct 8-bit ops quantize
 * their output), and the file then loads.
 */
import { outerScopeReads } from './graph';
import type { GraphProto } from './proto';

/** Ops that only move or reshape data: their output can take their input's quantization parameters. */
const DATA_MOVEMENT_OPS = new Set(['Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);

/**
 * The data-movement outputs a branch reads whose input is quantized (`quantized`) and that have no pair
 * yet (`paired`), each with the tensor whose parameters it takes.
 */
export function branchReadMovedTensors(
  graph: GraphProto,
  quantized: (t: string) => boolean,
  paired: (t: string) => boolean,
): { tensor: string; from: string }[] {
  const reads = outerScopeReads(graph);
  const out: { tensor: string; from: string }[] = [];
  for (const node of graph.node) {
    const y = node.output[0];
    const x = node.input[0];
    if (DATA_MOVEMENT_OPS.has(node.opType) && y && x && quantized(x) && reads.has(y) && !paired(y))
      out.push({ tensor: y, from: x });
  }
  return out;
}

/**
 * Point the branches' reads of outer-scope tensors (at any depth) at their replacements. ONNX names are
 * unique across a graph and its subgraphs (onnx/IR.md, "Names Within a Graph"), so a read of one of these
 * names is always the outer tensor's.
 */
export function rewireBranchReads(graph: GraphProto, to: ReadonlyMap<string, string>): void {
  if (!to.size) return;
  const visit = (g: GraphProto, top: boolean) => {
    for (const n of g.node) {
      if (!top) n.input = n.input.map((t) => to.get(t) ?? t);
      for (const a of n.attribute) for (const s of [...(a.g ? [a.g] : []), ...a.graphs]) visit(s, false);
    }
  };
  visit(graph, true);
}
