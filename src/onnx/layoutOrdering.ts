/**
 * The ordering step of the layered layout (layout.ts): the items it orders (nodes and the virtual
 * points of long edges), edge crossings between adjacent layers, and the barycentre reordering.
 */

export interface Item {
  readonly index: number;
  /** Index into the input nodes, or -1 for a virtual point of a long edge. */
  readonly node: number;
  readonly width: number;
  readonly layer: number;
  readonly up: number[];
  readonly down: number[];
}

/** Crossings between two adjacent layers: inversions among the edges sorted by their upper end. */
function crossingsBetween(upper: readonly number[], lowerPos: Int32Array, items: readonly Item[]): number {
  const ends: [number, number][] = [];
  upper.forEach((u, i) => {
    for (const d of items[u]!.down) ends.push([i, lowerPos[d]!]);
  });
  ends.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  // count inversions of the lower ends with a merge sort
  const xs = ends.map((e) => e[1]);
  const tmp = new Array<number>(xs.length);
  const sort = (lo: number, hi: number): number => {
    if (hi - lo < 2) return 0;
    const mid = (lo + hi) >> 1;
    let c = sort(lo, mid) + sort(mid, hi);
    let i = lo;
    let j = mid;
    let k = lo;
    while (i < mid && j < hi) {
      if (xs[i]! <= xs[j]!) tmp[k++] = xs[i++]!;
      else {
        c += mid - i;
        tmp[k++] = xs[j++]!;
      }
    }
    while (i < mid) tmp[k++] = xs[i++]!;
    while (j < hi) tmp[k++] = xs[j++]!;
    for (let t = lo; t < hi; t++) xs[t] = tmp[t]!;
    return c;
  };
  return sort(0, xs.length);
}

export function totalCrossings(order: readonly number[][], items: readonly Item[], pos: Int32Array): number {
  let c = 0;
  for (let l = 0; l + 1 < order.length; l++) c += crossingsBetween(order[l]!, pos, items);
  return c;
}

export function positions(order: readonly number[][], count: number): Int32Array {
  const pos = new Int32Array(count);
  for (const layer of order) layer.forEach((v, i) => (pos[v] = i));
  return pos;
}

/** Reorder one layer by the mean position of each item's neighbours in the adjacent layer. */
export function barycentreSort(
  layer: number[],
  neighbours: (v: number) => readonly number[],
  pos: Int32Array,
  key: Float64Array,
): void {
  layer.forEach((v, i) => {
    const ns = neighbours(v);
    let s = 0;
    for (const n of ns) s += pos[n]!;
    // an item with no neighbour there keeps its place
    key[v] = ns.length ? s / ns.length : i;
  });
  layer.sort((a, b) => key[a]! - key[b]! || pos[a]! - pos[b]!);
  layer.forEach((v, i) => (pos[v] = i));
}
