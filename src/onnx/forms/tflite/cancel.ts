import type { TfliteEmitter } from './emitter';

/**
 * Transposes cancelled: a TRANSPOSE whose only reader is a TRANSPOSE undoing it (a rank-4 tensor taken to
 * ONNX order and straight back, e.g. Unsqueeze then Squeeze) is dropped with it, its readers rewired.
 */
export function cancelTransposes(e: TfliteEmitter, graphOutputs: number[]): void {
  const permOf = (i: number): number[] => {
    const b = e.buffers[e.tensors[i]!.buffer]!;
    return [...new Int32Array(b.buffer, b.byteOffset, b.length / 4)];
  };
  for (;;) {
    const readers = new Map<number, number[]>();
    e.ops.forEach((o, k) => o.inputs.forEach((i) => readers.set(i, [...(readers.get(i) ?? []), k])));
    const pair = e.ops.findIndex((a) => {
      if (a.op !== 'TRANSPOSE' || graphOutputs.includes(a.outputs[0]!)) return false;
      const r = readers.get(a.outputs[0]!) ?? [];
      if (r.length !== 1 || e.ops[r[0]!]!.op !== 'TRANSPOSE') return false;
      const pa = permOf(a.inputs[1]!);
      const pb = permOf(e.ops[r[0]!]!.inputs[1]!);
      return pb.every((p, i) => pa[p] === i);
    });
    if (pair < 0) return;
    const a = e.ops[pair]!;
    const bIndex = readers.get(a.outputs[0]!)![0]!;
    const b = e.ops[bIndex]!;
    const from = b.outputs[0]!;
    const to = a.inputs[0]!;
    e.ops.splice(Math.max(pair, bIndex), 1);
    e.ops.splice(Math.min(pair, bIndex), 1);
    for (let k = 0; k < e.ops.length; k++) {
      const o = e.ops[k]!;
      if (o.inputs.includes(from)) e.ops[k] = { ...o, inputs: o.inputs.map((i) => (i === from ? to : i)) };
    }
    const gi = graphOutputs.indexOf(from);
    if (gi >= 0) graphOutputs[gi] = to;
  }
}
