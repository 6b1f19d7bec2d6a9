/**
 * The graph view's input: one box per node of an ONNX graph (and one per graph input), an edge per
 * tensor from its producer to each consumer; initializers are not drawn (Netron folds them into the
 * node too). Box widths follow the op type's length, as the view writes it.
 */
import { layeredLayout, type GraphLayout, type LayoutOptions } from './layout';
import type { GraphProto } from './proto';

export interface GraphBox {
  readonly id: string;
  readonly label: string;
  /** The node's first output (the tensor the view colours it by), or the graph input's name. */
  readonly tensor: string;
  readonly opType: string;
  readonly kind: 'node' | 'input';
}

export const BOX_HEIGHT = 26;
/** Approximate width of one character of the view's 12 px label font. */
const CHAR_WIDTH = 7.2;

export function boxWidth(label: string): number {
  return Math.max(56, Math.ceil(label.length * CHAR_WIDTH) + 18);
}

export interface GraphDrawing {
  readonly layout: GraphLayout;
  readonly boxes: ReadonlyMap<string, GraphBox>;
  /** The box drawing each tensor: its producer, or the graph input box. */
  readonly boxOfTensor: ReadonlyMap<string, string>;
}

export function graphDrawing(graph: GraphProto, opts: LayoutOptions = {}): GraphDrawing {
  const inits = new Set(graph.initializer.map((t) => t.name));
  const boxes = new Map<string, GraphBox>();
  const boxOfTensor = new Map<string, string>();
  for (const v of graph.input) {
    if (inits.has(v.name)) continue;
    const id = `input:${v.name}`;
    boxes.set(id, { id, label: v.name, tensor: v.name, opType: 'input', kind: 'input' });
    boxOfTensor.set(v.name, id);
  }
  graph.node.forEach((n, i) => {
    const id = `node:${n.name || i}`;
    boxes.set(id, { id, label: n.opType, tensor: n.output[0] ?? '', opType: n.opType, kind: 'node' });
    for (const o of n.output) if (o) boxOfTensor.set(o, id);
  });
  const edges: { from: string; to: string }[] = [];
  graph.node.forEach((n, i) => {
    const to = `node:${n.name || i}`;
    for (const t of n.input) {
      const from = t ? boxOfTensor.get(t) : undefined;
      if (from) edges.push({ from, to });
    }
  });
  const layout = layeredLayout(
    [...boxes.values()].map((b) => ({ id: b.id, width: boxWidth(b.label), height: BOX_HEIGHT })),
    edges,
    opts,
  );
  return { layout, boxes, boxOfTensor };
}
