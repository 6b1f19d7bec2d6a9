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
