/**
 * ONNX messages after a structured clone (postMessage between the page and its workers). A clone keeps an
 * object's own fields but not its prototype, and @bufbuild/protobuf keeps proto2 defaults on the prototype
 * (NodeProto.domain '', AttributeProto.f 0 ...): a cloned model reads `undefined` there, so a node's
 * domain is no longer '' and the planner finds nothing to quantize. This puts each message's prototype
 * back, in place, from its `$typeName`: no field is copied and the bytes it encodes to are unchanged.
 */
import { create, type DescMessage } from '@bufbuild/protobuf';
import * as onnxSchemas from 'onnx-buf';

const PROTOTYPES = new Map<string, object>();
for (const v of Object.values(onnxSchemas) as unknown[]) {
  const d = v as Partial<DescMessage> | null;
  if (d && typeof d === 'object' && d.kind === 'message' && typeof d.typeName === 'string')
    PROTOTYPES.set(d.typeName, Object.getPrototypeOf(create(d as DescMessage)) as object);
}

function walk(v: unknown, seen: Set<object>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || (typeof Blob !== 'undefined' && v instanceof Blob)) return;
  seen.add(v);
  if (Array.isArray(v)) {
    for (const x of v) walk(x, seen);
    return;
  }
  if (v instanceof Map) {
    for (const x of v.values()) walk(x, seen);
    return;
  }
  const typeName = (v as { $typeName?: unknown }).$typeName;
  const proto = typeof typeName === 'string' ? PROTOTYPES.get(typeName) : undefined;
  if (proto) {
    if (Object.getPrototypeOf(v) !== proto) Object.setPrototypeOf(v, proto);
  } else if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return; // other classes
  for (const x of Object.values(v)) walk(x, seen);
}

/** `value` with every ONNX message inside it given its prototype back (in place); returns `value`. */
export function reviveOnnxMessages<T>(value: T): T {
  walk(value, new Set());
  return value;
}
