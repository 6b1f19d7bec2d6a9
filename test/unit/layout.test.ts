/**
 * The graph view's layered layout, as properties: at 650+ nodes (random DAGs with skip edges, and the
 * real PP-OCRv4 det and rec graphs) no two boxes overlap, every box lies inside the drawing, every
 * edge runs downward from its producer to its consumer, and the barycentre sweeps never leave more
 * crossings than the first order. The checker itself is shown to catch a broken layout.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/random';
import { decodeModel, prepareModel } from '../../src/onnx';
import { layeredLayout, type GraphLayout, type LayoutEdgeInput, type LayoutNodeInput } from '../../src/onnx/layout';
import { graphDrawing } from '../../src/onnx/layoutGraph';
import { ocrModel } from '../helpers/sample';

/** Everything wrong with a layout, in words (empty when it holds). */
function layoutProblems(l: GraphLayout, edges: readonly LayoutEdgeInput[]): string[] {
  const problems: string[] = [];
  const eps = 1e-6;
  for (const n of l.nodes) {
    if (n.x < -eps || n.y < -eps || n.x + n.width > l.width + eps || n.y + n.height > l.height + eps)
      problems.push(`${n.id} outside the drawing`);
  }
  // sweep by x: only boxes whose x ranges meet are compared
  const byX = [...l.nodes].sort((a, b) => a.x - b.x);
  for (let i = 0; i < byX.length; i++) {
    const a = byX[i]!;
    for (let j = i + 1; j < byX.length && byX[j]!.x < a.x + a.width - eps; j++) {
      const b = byX[j]!;
      if (b.y < a.y + a.height - eps && a.y < b.y + b.height - eps) problems.push(`${a.id} overlaps ${b.id}`);
    }
  }
  const at = new Map(l.nodes.map((n) => [n.id, n]));
  for (const e of edges) {
    if (e.from === e.to) continue;
    const a = at.get(e.from)!;
    const b = at.get(e.to)!;
    if (!(a.layer < b.layer)) problems.push(`${e.from} → ${e.to} does not run downward`);
  }
  for (const e of l.edges)
    for (let k = 1; k < e.points.length; k++)
      if (e.points[k]!.y < e.points[k - 1]!.y - eps) problems.push(`edge ${e.from} → ${e.to} turns upward`);
  return problems;
}

/** A DAG like a CNN's: a chain of nodes, each also reading a few earlier ones (skip edges, branches). */
function randomDag(n: number, seed: number): { nodes: LayoutNodeInput[]; edges: LayoutEdgeInput[] } {
  const rand = mulberry32(seed);
  const nodes = Array.from({ length: n }, (_, i) => ({
    id: `n${i}`,
    width: 56 + Math.floor(rand() * 90),
    height: 20 + Math.floor(rand() * 12),
  }));
  const edges: LayoutEdgeInput[] = [];
  for (let i = 1; i < n; i++) {
    edges.push({ from: `n${i - 1 - Math.floor(rand() * Math.min(i, 3))}`, to: `n${i}` });
    // a skip edge over up to 30 nodes (residual blocks, a feature pyramid's lateral paths)
    if (rand() < 0.25) edges.push({ from: `n${Math.max(0, i - 2 - Math.floor(rand() * 30))}`, to: `n${i}` });
  }
  return { nodes, edges };
}

describe('layered layout', () => {
  it.each([1, 2, 3])('650+ nodes of a random DAG (seed %i): no overlap, in bounds, edges downward', (seed) => {
    const { nodes, edges } = randomDag(700, seed);
    const l = layeredLayout(nodes, edges);
    expect(l.nodes).toHaveLength(700);
    expect(layoutProblems(l, edges)).toEqual([]);
    // barycentre ordering keeps at most the crossings of the depth-first start
    expect(l.crossings).toBeLessThanOrEqual(layeredLayout(nodes, edges, { sweeps: 0 }).crossings);
  });

  it('the checker catches a broken layout: two boxes moved onto each other, one moved off the drawing', () => {
    const { nodes, edges } = randomDag(50, 7);
    const l = layeredLayout(nodes, edges);
    const [a, b] =
      l.nodes.filter((n) => n.layer === l.nodes[1]!.layer).length > 1
        ? [l.nodes[1]!, l.nodes[2]!]
        : [l.nodes[0]!, l.nodes[1]!];
    const overlapped = { ...l, nodes: l.nodes.map((n) => (n === b ? { ...n, x: a.x, y: a.y } : n)) };
    expect(layoutProblems(overlapped, edges).some((p) => p.includes('overlaps'))).toBe(true);
    const outside = { ...l, nodes: l.nodes.map((n) => (n === a ? { ...n, x: l.width } : n)) };
    expect(layoutProblems(outside, edges).some((p) => p.includes('outside'))).toBe(true);
  });

  it('barycentre sweeps remove the crossings of a crossed two-layer graph', () => {
    // a0→b1, a1→b0 drawn in input order would cross once; b's order follows a's
    const nodes = ['a0', 'a1', 'b0', 'b1'].map((id) => ({ id, width: 60, height: 20 }));
    const edges = [
      { from: 'a0', to: 'b1' },
      { from: 'a1', to: 'b0' },
      { from: 'a0', to: 'b0x' }, // a dangling edge is ignored
    ];
    const l = layeredLayout(nodes, edges);
    expect(l.crossings).toBe(0);
    const x = new Map(l.nodes.map((n) => [n.id, n.x]));
    expect(Math.sign(x.get('a0')! - x.get('a1')!)).toBe(Math.sign(x.get('b1')! - x.get('b0')!));
  });

  it('a cycle does not hang the layout and still lays every node out without overlap', () => {
    const nodes = ['a', 'b', 'c'].map((id) => ({ id, width: 60, height: 20 }));
    const l = layeredLayout(nodes, [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
    ]);
    expect(l.nodes).toHaveLength(3);
    // the edge closing the cycle runs upward, as drawn reversed; the boxes still hold
    expect(layoutProblems({ ...l, edges: [] }, [])).toEqual([]);
    expect(l.nodes.map((n) => n.layer)).toEqual([0, 1, 2]);
  });

  it.each(['det', 'rec'] as const)('the real PP-OCRv4 %s graph', (name) => {
    const prepared = prepareModel(decodeModel(ocrModel(name), `${name}.onnx`)).model;
    const d = graphDrawing(prepared.graph!);
    const edges = d.layout.edges.map((e) => ({ from: e.from, to: e.to }));
    expect(d.layout.nodes.length).toBe(prepared.graph!.node.length + 1);
    expect(layoutProblems(d.layout, edges)).toEqual([]);
    // every node's output is found on its box
    for (const n of prepared.graph!.node) expect(d.boxOfTensor.get(n.output[0]!)).toBe(`node:${n.name}`);
    console.log(
      `${name}: ${prepared.graph!.node.length} nodes, ${d.layout.layers} layers, ${d.layout.crossings} crossings, ${Math.round(d.layout.width)}x${Math.round(d.layout.height)}`,
    );
  });
});
