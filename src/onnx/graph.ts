/** Read-only indexes over a graph: who produces and who consumes each tensor. */
import type { GraphProto, NodeProto, TensorProto } from './proto';

export interface GraphIndex {
  readonly producer: ReadonlyMap<string, NodeProto>;
  readonly consumers: ReadonlyMap<string, readonly NodeProto[]>;
  readonly initializers: ReadonlyMap<string, TensorProto>;
  readonly graphInputs: ReadonlySet<string>;
  readonly graphOutputs: ReadonlySet<string>;
}

export function indexGraph(graph: GraphProto): GraphIndex {
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of graph.node) {
    for (const o of n.output) if (o) producer.set(o, n);
    for (const i of n.input) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) {
        if (!list.includes(n)) list.push(n);
      } else consumers.set(i, [n]);
    }
  }
  return {
    producer,
    consumers,
    initializers: new Map(graph.initializer.map((t) => [t.name, t])),
    graphInputs: new Set(graph.input.map((v) => v.name)),
    graphOutputs: new Set(graph.output.map((v) => v.name)),
  };
}

/** A name not yet used by any tensor or node of the graph, built from `base`. */
export function uniqueNamer(graph: GraphProto): (base: string) => string {
  const used = new Set<string>();
  for (const n of graph.node) {
    used.add(n.name);
    for (const x of [...n.input, ...n.output]) used.add(x);
  }
  for (const t of graph.initializer) used.add(t.name);
  for (const v of [...graph.input, ...graph.output]) used.add(v.name);
  return (base: string) => {
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
}

/** Every name a graph defines: node outputs, initializers and (for a subgraph's formal inputs) inputs. */
export function definedNames(g: GraphProto): Set<string> {
  return new Set([
    ...g.node.flatMap((n) => n.output),
    ...g.initializer.map((t) => t.name),
    ...g.input.map((v) => v.name),
  ]);
}

/** Names the subgraphs of a graph (at any depth) read from the scopes around them: never rename or drop those. */
export function outerScopeReads(g: GraphProto): Set<string> {
  const reads = new Set<string>();
  const visit = (sub: GraphProto, outer: Set<string>) => {
    const defined = definedNames(sub);
    for (const n of sub.node) {
      for (const i of n.input) if (i && !defined.has(i)) outer.add(i);
      for (const a of n.attribute) {
        const inner = new Set<string>();
        if (a.g) visit(a.g, inner);
        for (const s of a.graphs) visit(s, inner);
        for (const i of inner) if (!defined.has(i)) outer.add(i);
      }
    }
  };
  for (const n of g.node) {
    for (const a of n.attribute) {
      if (a.g) visit(a.g, reads);
      for (const s of a.graphs) visit(s, reads);
    }
  }
  return reads;
}

/** Every name something reads: node inputs, graph outputs, and what subgraphs read from this scope. */
export function readNames(g: GraphProto): Set<string> {
  const used = outerScopeReads(g);
  for (const n of g.node) for (const i of n.input) if (i) used.add(i);
  for (const v of g.output) used.add(v.name);
  return used;
}

/** Drop the initializers nothing reads (keeping `keep`). */
export function pruneInitializers(g: GraphProto, keep: ReadonlySet<string> = new Set()): void {
  const used = readNames(g);
  g.initializer = g.initializer.filter((t) => used.has(t.name) || keep.has(t.name));
}
