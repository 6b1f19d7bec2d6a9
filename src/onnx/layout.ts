/**
 * A layered (Sugiyama-style) drawing of a directed acyclic graph, top to bottom, as Netron draws ONNX
 * graphs (Netron hands its graphs to dagre, which follows the same steps):
 *   1. layering by longest path from the sources (each node one layer below its deepest input);
 *   2. edges longer than one layer are split by virtual points, one per layer crossed, so they are
 *      ordered and routed like nodes and never run through one;
 *   3. ordering within layers by the barycentre heuristic (Sugiyama, Tagawa and Toda 1981): sweeps
 *      down and up, each node placed at the mean position of its neighbours in the layer before,
 *      keeping the order with the fewest crossings seen;
 *   4. coordinates: each node pulled toward the mean x of its neighbours, then pushed apart so that no
 *      two in a layer are closer than `nodeGap` (a left-to-right and a right-to-left pass, averaged:
 *      both satisfy the spacing, so their mean does too).
 * Pure code over plain records: no DOM, no ONNX types (src/onnx/layoutGraph.ts builds the input).
 */

import { barycentreSort, positions, totalCrossings, type Item } from './layoutOrdering';

export interface LayoutNodeInput {
  readonly id: string;
  readonly width: number;
  readonly height: number;
}

export interface LayoutEdgeInput {
  readonly from: string;
  readonly to: string;
}

export interface PlacedNode {
  readonly id: string;
  /** Top-left corner. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly layer: number;
}

export interface PlacedEdge {
  readonly from: string;
  readonly to: string;
  /** From the bottom centre of `from` through one point per layer crossed to the top centre of `to`. */
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface GraphLayout {
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
  readonly width: number;
  readonly height: number;
  readonly layers: number;
  /** Edge crossings between adjacent layers in the chosen order. */
  readonly crossings: number;
}

export interface LayoutOptions {
  /** Horizontal space between neighbours in a layer. */
  readonly nodeGap?: number;
  /** Vertical space between layers. */
  readonly layerGap?: number;
  /** Width given to an edge's virtual point. */
  readonly edgeGap?: number;
  readonly margin?: number;
  /** Barycentre sweeps (one down and one up each). */
  readonly sweeps?: number;
}

/** Longest-path layers in topological order (Kahn); nodes on a cycle go below everything before them. */
function longestPathLayers(n: number, preds: readonly number[][], succs: readonly number[][]): number[] {
  const layer = new Array<number>(n).fill(0);
  const indegree = preds.map((p) => p.length);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) queue.push(i);
  const done = new Array<boolean>(n).fill(false);
  let head = 0;
  let deepest = -1;
  const visit = (v: number) => {
    done[v] = true;
    deepest = Math.max(deepest, layer[v]!);
    for (const s of succs[v]!) {
      if (done[s]) continue; // the edge closing a cycle
      layer[s] = Math.max(layer[s]!, layer[v]! + 1);
      if (--indegree[s]! === 0) queue.push(s);
    }
  };
  for (;;) {
    while (head < queue.length) visit(queue[head++]!);
    // a cycle (not in a valid ONNX graph, but never loop forever): release its first node
    const stuck = done.indexOf(false);
    if (stuck < 0) break;
    layer[stuck] = Math.max(layer[stuck]!, deepest + 1);
    indegree[stuck] = 0;
    queue.push(stuck);
  }
  return layer;
}

/** Centres in one layer at least `gap` apart (plus half widths), as close to `want` as two passes get them. */
function spread(widths: readonly number[], want: readonly number[], gap: number): number[] {
  const n = want.length;
  const need = (i: number) => widths[i]! / 2 + gap + widths[i + 1]! / 2;
  const ltr = [...want];
  for (let i = 1; i < n; i++) ltr[i] = Math.max(ltr[i]!, ltr[i - 1]! + need(i - 1));
  const rtl = [...want];
  for (let i = n - 2; i >= 0; i--) rtl[i] = Math.min(rtl[i]!, rtl[i + 1]! - need(i));
  return ltr.map((x, i) => (x + rtl[i]!) / 2);
}

export function layeredLayout(
  nodes: readonly LayoutNodeInput[],
  edges: readonly LayoutEdgeInput[],
  opts: LayoutOptions = {},
): GraphLayout {
  const nodeGap = opts.nodeGap ?? 24;
  const layerGap = opts.layerGap ?? 36;
  const edgeGap = opts.edgeGap ?? 8;
  const margin = opts.margin ?? 20;
  const sweeps = opts.sweeps ?? 8;
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const preds: number[][] = nodes.map(() => []);
  const succs: number[][] = nodes.map(() => []);
  const seen = new Set<string>();
  const kept: [number, number][] = [];
  for (const e of edges) {
    const a = index.get(e.from);
    const b = index.get(e.to);
    const key = `${a}>${b}`;
    if (a === undefined || b === undefined || a === b || seen.has(key)) continue;
    seen.add(key);
    preds[b]!.push(a);
    succs[a]!.push(b);
    kept.push([a, b]);
  }
  const layerOf = longestPathLayers(nodes.length, preds, succs);
  // an edge that points upward (only on a cycle) is drawn as if reversed
  const items: Item[] = nodes.map((n, i) => ({
    index: i,
    node: i,
    width: n.width,
    layer: layerOf[i]!,
    up: [],
    down: [],
  }));
  const chains: number[][] = [];
  for (const [a0, b0] of kept) {
    const [a, b] = layerOf[a0]! <= layerOf[b0]! ? [a0, b0] : [b0, a0];
    const chain = [a];
    for (let l = layerOf[a]! + 1; l < layerOf[b]!; l++) {
      const v: Item = { index: items.length, node: -1, width: edgeGap, layer: l, up: [], down: [] };
      items.push(v);
      chain.push(v.index);
    }
    chain.push(b);
    for (let k = 0; k + 1 < chain.length; k++) {
      items[chain[k]!]!.down.push(chain[k + 1]!);
      items[chain[k + 1]!]!.up.push(chain[k]!);
    }
    chains.push(a === a0 ? chain : [...chain].reverse());
  }
  const layerCount = nodes.length ? Math.max(...layerOf) + 1 : 0;
  const order: number[][] = Array.from({ length: layerCount }, () => []);
  // initial order: depth-first from the sources, so a branch's nodes start next to each other
  const placed = new Array<boolean>(items.length).fill(false);
  const dfs = (root: number) => {
    const stack = [root];
    while (stack.length) {
      const v = stack.pop()!;
      if (placed[v]) continue;
      placed[v] = true;
      order[items[v]!.layer]!.push(v);
      for (let k = items[v]!.down.length - 1; k >= 0; k--) stack.push(items[v]!.down[k]!);
    }
  };
  for (const it of items) if (it.up.length === 0) dfs(it.index);
  for (const it of items) if (!placed[it.index]) dfs(it.index);

  let pos = positions(order, items.length);
  let best = order.map((l) => [...l]);
  let bestCrossings = totalCrossings(order, items, pos);
  const key = new Float64Array(items.length);
  const up = (v: number) => items[v]!.up;
  const down = (v: number) => items[v]!.down;
  for (let s = 0; s < sweeps && bestCrossings > 0; s++) {
    for (let l = 1; l < layerCount; l++) barycentreSort(order[l]!, up, pos, key);
    for (let l = layerCount - 2; l >= 0; l--) barycentreSort(order[l]!, down, pos, key);
    const c = totalCrossings(order, items, pos);
    if (c < bestCrossings) {
      bestCrossings = c;
      best = order.map((l) => [...l]);
    }
  }
  pos = positions(best, items.length);

  // x: start packed and centred, then pull toward neighbours (down, then up) a few times
  const cx = new Float64Array(items.length);
  const layerWidth = (l: readonly number[]) => l.reduce((s, v) => s + items[v]!.width, 0) + nodeGap * (l.length - 1);
  const widest = Math.max(0, ...best.map(layerWidth));
  for (const l of best) {
    let x = (widest - layerWidth(l)) / 2;
    for (const v of l) {
      cx[v] = x + items[v]!.width / 2;
      x += items[v]!.width + nodeGap;
    }
  }
  const settle = (l: readonly number[], neighbours: (v: number) => readonly number[]) => {
    const want = l.map((v) => {
      const ns = neighbours(v);
      return ns.length ? ns.reduce((s, n) => s + cx[n]!, 0) / ns.length : cx[v]!;
    });
    const xs = spread(
      l.map((v) => items[v]!.width),
      want,
      nodeGap,
    );
    l.forEach((v, i) => (cx[v] = xs[i]!));
  };
  for (let s = 0; s < 4; s++) {
    for (let l = 1; l < layerCount; l++) settle(best[l]!, (v) => items[v]!.up);
    for (let l = layerCount - 2; l >= 0; l--) settle(best[l]!, (v) => items[v]!.down);
  }
  let minX = Infinity;
  let maxX = -Infinity;
  for (const it of items) {
    minX = Math.min(minX, cx[it.index]! - it.width / 2);
    maxX = Math.max(maxX, cx[it.index]! + it.width / 2);
  }
  if (!items.length) minX = maxX = 0;

  // y: each layer as tall as its tallest node
  const top: number[] = [];
  const heightOf: number[] = [];
  let y = margin;
  for (let l = 0; l < layerCount; l++) {
    const h = Math.max(0, ...best[l]!.map((v) => (items[v]!.node >= 0 ? nodes[items[v]!.node]!.height : 0)));
    top.push(y);
    heightOf.push(h);
    y += h + layerGap;
  }
  const shift = margin - minX;
  const placedNodes: PlacedNode[] = nodes.map((n, i) => ({
    id: n.id,
    x: cx[i]! - n.width / 2 + shift,
    // centred in its layer's band
    y: top[layerOf[i]!]! + (heightOf[layerOf[i]!]! - n.height) / 2,
    width: n.width,
    height: n.height,
    layer: layerOf[i]!,
  }));
  const placedEdges: PlacedEdge[] = chains.map((chain) => {
    const a = chain[0]!;
    const b = chain[chain.length - 1]!;
    const pa = placedNodes[a]!;
    const pb = placedNodes[b]!;
    const down = pa.layer <= pb.layer;
    const points = [{ x: pa.x + pa.width / 2, y: down ? pa.y + pa.height : pa.y }];
    for (const v of chain.slice(1, -1)) {
      const l = items[v]!.layer;
      points.push({ x: cx[v]! + shift, y: top[l]! + heightOf[l]! / 2 });
    }
    points.push({ x: pb.x + pb.width / 2, y: down ? pb.y : pb.y + pb.height });
    return { from: nodes[a]!.id, to: nodes[b]!.id, points };
  });
  return {
    nodes: placedNodes,
    edges: placedEdges,
    width: maxX - minX + 2 * margin,
    height: layerCount ? y - layerGap + margin : 2 * margin,
    layers: layerCount,
    crossings: bestCrossings,
  };
}
