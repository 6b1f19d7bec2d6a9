/** Fused activations: Relu / Clip(0, 6) / Clip(-1, 1) after a single-consumer producer. */
import type { NodeProto } from '../../proto';
import { readFloat32 } from '../../tensor';
import type { Base } from './context';

export function makeFusion(c: Base) {
  const { index, graph } = c;
  const FUSABLE = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul']);
  const clipBounds = (n: NodeProto): [number, number] => {
    const b = (i: number, d: number) => (n.input[i] ? readFloat32(index.initializers.get(n.input[i]!)!)[0]! : d);
    return n.opType === 'Relu' ? [0, Infinity] : [b(1, -Infinity), b(2, Infinity)];
  };
  const activationKind = (n: NodeProto): 'RELU' | 'RELU6' | 'RELU_N1_TO_1' | null => {
    if (n.opType !== 'Relu' && n.opType !== 'Clip') return null;
    const [lo, hi] = clipBounds(n);
    if (lo === 0 && hi === Infinity) return 'RELU';
    if (lo === 0 && hi === 6) return 'RELU6';
    if (lo === -1 && hi === 1) return 'RELU_N1_TO_1';
    return null;
  };
  const fused = new Map<string, { act: NodeProto; kind: 'RELU' | 'RELU6' | 'RELU_N1_TO_1' }>();
  const fusedAway = new Set<string>();
  for (const n of graph.node) {
    if (!FUSABLE.has(n.opType)) continue;
    const out = n.output[0]!;
    const cons = index.consumers.get(out) ?? [];
    if (cons.length !== 1 || index.graphOutputs.has(out)) continue;
    const kind = activationKind(cons[0]!);
    if (!kind) continue;
    fused.set(n.name, { act: cons[0]!, kind });
    fusedAway.add(cons[0]!.name);
  }
  /** The node's (possibly fused) output name and the activation applied. */
  const outputOf = (n: NodeProto): { name: string; fusedAct: string; bounds: [number, number] } => {
    const f = fused.get(n.name);
    if (!f) return { name: n.output[0]!, fusedAct: 'NONE', bounds: [-Infinity, Infinity] };
    return { name: f.act.output[0]!, fusedAct: f.kind, bounds: clipBounds(f.act) };
  };
  return { clipBounds, activationKind, fused, fusedAway, outputOf };
}
