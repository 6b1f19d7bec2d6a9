/**
 * What runs where: a key per op and element type (as the exported files use them), and the table
 * the probe script (scripts/probe-support.ts) fills by running a one-node model per key on each of
 * onnxruntime-web's backends in a real browser. The table is data (support.json), stamped with the
 * onnxruntime-web version and the browser it was read from; nothing in it is typed by hand.
 */
import { attrInt, getAttr, type ModelProto, type NodeProto } from '../proto';
import { dataTypeName } from '../tensor';
import { inferElemTypes } from '../types';
import table from './support.json';

export type SupportBackend = 'wasm' | 'webgpu' | 'webnn';

export interface SupportTable {
  readonly onnxruntimeWeb: string;
  readonly browser: string;
  readonly webgpuAdapter: string;
  readonly webnn: string;
  readonly probedAt: string;
  /** key → backend → true (runs entirely on that backend), false (fails or falls back), null (not probed). */
  readonly table: Readonly<Record<string, Readonly<Record<SupportBackend, boolean | null>>>>;
}

export const SUPPORT: SupportTable = table as SupportTable;

function typeName(code: number | undefined): string {
  return code === undefined ? '?' : dataTypeName(code).toLowerCase();
}

/** The table's key for a node: op (with domain) and the element types that choose its kernel. */
export function opKey(node: NodeProto, types: ReadonlyMap<string, number>): string {
  const op = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType;
  const t = (i: number) => typeName(node.input[i] ? types.get(node.input[i]!) : undefined);
  switch (node.opType) {
    case 'QuantizeLinear':
      return `${op}:${node.input[2] ? t(2) : 'uint8'}${getAttr(node, 'block_size') ? '/block' : ''}`;
    case 'DequantizeLinear':
      return `${op}:${t(0)}${getAttr(node, 'block_size') ? '/block' : ''}`;
    case 'MatMulNBits':
      return `${op}:${attrInt(node, 'bits', 4)}bit/${t(0)}`;
    case 'MatMulInteger':
    case 'ConvInteger':
      return `${op}:${t(0)}x${t(1)}`;
    case 'Cast':
      return `${op}:${t(0)}->${typeName(attrInt(node, 'to', 0))}`;
    default:
      return `${op}:${t(0)}`;
  }
}

export interface SupportRow {
  readonly key: string;
  readonly count: number;
  readonly support: Readonly<Record<SupportBackend, boolean | null>>;
}

/** For each op key in a model, how many nodes use it and what the table says of each backend. */
export function supportReport(model: ModelProto, t: SupportTable = SUPPORT): SupportRow[] {
  const types = inferElemTypes(model.graph!);
  const counts = new Map<string, number>();
  for (const n of model.graph!.node) {
    const k = opKey(n, types);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([key, count]) => ({ key, count, support: t.table[key] ?? { wasm: null, webgpu: null, webnn: null } }));
}
