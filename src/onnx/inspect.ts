/** What the page shows the moment a model is loaded. */
import {
  defaultOpset,
  toInt,
  valueInfoElemType,
  valueInfoShape,
  type GraphProto,
  type ModelProto,
  type TensorProto,
} from './proto';
import type { QuantPlan } from './plan';
import { dataTypeName, elementCount, tensorByteSize } from './tensor';

export interface IoInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | string)[] | null;
}

export interface ModelSummary {
  readonly fileName: string;
  readonly fileBytes: number;
  readonly irVersion: number;
  readonly opset: number;
  readonly opsets: readonly { domain: string; version: number }[];
  readonly producer: string;
  readonly inputs: readonly IoInfo[];
  readonly outputs: readonly IoInfo[];
  readonly opCounts: Readonly<Record<string, number>>;
  readonly nodeCount: number;
  readonly parameterCount: number;
  readonly parameterBytes: number;
  /** Nodes the plan quantizes, by name and op type. */
  readonly quantizedNodes: readonly { name: string; opType: string }[];
  /** Op types present that the quantizer leaves float, with their counts. */
  readonly floatOps: Readonly<Record<string, number>>;
  /** Quantizable nodes that stay float, and why. */
  readonly floatNodes: readonly { name: string; opType: string; reason: string }[];
  readonly preparation: readonly string[];
}

function io(v: GraphProto['input'][number]): IoInfo {
  const t = valueInfoElemType(v);
  return { name: v.name, dtype: t === undefined ? 'unknown' : dataTypeName(t), shape: valueInfoShape(v) ?? null };
}

/** Every weight a graph holds: initializers and Constant-node tensors, subgraphs included. */
function constantTensors(graph: GraphProto): TensorProto[] {
  const out = [...graph.initializer];
  for (const n of graph.node) {
    for (const a of n.attribute) {
      if (a.t && n.opType === 'Constant') out.push(a.t);
      if (a.g) out.push(...constantTensors(a.g));
      for (const g of a.graphs) out.push(...constantTensors(g));
    }
  }
  return out;
}

export function summarizeModel(
  original: ModelProto,
  prepared: ModelProto,
  plan: QuantPlan,
  fileName: string,
  fileBytes: number,
  preparation: readonly string[],
): ModelSummary {
  const g = original.graph!;
  const inits = new Set(g.initializer.map((t) => t.name));
  const opCounts: Record<string, number> = {};
  for (const n of g.node) opCounts[n.opType] = (opCounts[n.opType] ?? 0) + 1;
  let parameterCount = 0;
  let parameterBytes = 0;
  for (const t of constantTensors(g)) {
    parameterCount += elementCount(t);
    parameterBytes += tensorByteSize(t);
  }
  const quantized = new Set(plan.nodes.map((n) => n.name));
  const floatOps: Record<string, number> = {};
  for (const n of prepared.graph!.node) {
    if (quantized.has(n.name) || n.opType === 'Constant') continue;
    floatOps[n.opType] = (floatOps[n.opType] ?? 0) + 1;
  }
  return {
    fileName,
    fileBytes,
    irVersion: toInt(original.irVersion, 'ir_version'),
    opset: defaultOpset(original),
    opsets: original.opsetImport.map((o) => ({
      domain: o.domain || 'ai.onnx',
      version: toInt(o.version, 'opset version'),
    })),
    producer: [original.producerName, original.producerVersion].filter(Boolean).join(' '),
    inputs: g.input.filter((v) => !inits.has(v.name)).map(io),
    outputs: g.output.map(io),
    opCounts,
    nodeCount: g.node.length,
    parameterCount,
    parameterBytes,
    quantizedNodes: plan.nodes.map((n) => ({ name: n.name, opType: n.opType })),
    floatOps,
    floatNodes: plan.floatNodes,
    preparation,
  };
}

/** Each tensor's producing op type (tensor name → opType), for settings given by op type. */
export function producerOpTypes(model: ModelProto): Map<string, string> {
  return new Map(model.graph!.node.flatMap((n) => n.output.map((o) => [o, n.opType] as const)));
}
