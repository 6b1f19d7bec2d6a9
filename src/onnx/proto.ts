/**
 * The ONNX protobuf schema (ONNX 1.20, compiled by onnx-buf for @bufbuild/protobuf) and small
 * constructors over it. int64 fields arrive as bigint: `toInt` converts them at this boundary
 * with a range check; int64 tensor bytes are never converted.
 */
import { clone, create } from '@bufbuild/protobuf';
import {
  ModelProtoSchema,
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { QuantscopeError } from '../core/errors';
import { spillIfActive } from './externalData';

export type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto };
export { AttributeProto_AttributeType as AttrType };

/** bigint → number, refusing values a double cannot hold exactly. */
export function toInt(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new QuantscopeError('BAD_TENSOR', `${what}: ${v} does not fit a JavaScript number`);
  }
  return Number(v);
}

export function dimsOf(t: TensorProto): number[] {
  return t.dims.map((d) => toInt(d, `dims of ${t.name}`));
}

export function makeTensor(name: string, dataType: number, dims: readonly number[], rawData: Uint8Array): TensorProto {
  const t = create(TensorProtoSchema, {
    name,
    dataType,
    dims: dims.map(BigInt),
    rawData: rawData as Uint8Array<ArrayBuffer>,
  });
  spillIfActive(t); // streaming export (externalData.ts): a large new tensor goes to the spool at once
  return t;
}

export function bytesOf(a: ArrayBufferView): Uint8Array<ArrayBuffer> {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice() as Uint8Array<ArrayBuffer>;
}

export type AttrValue = number | string | number[] | TensorProto;

export function makeAttribute(name: string, value: AttrValue, kind?: 'int' | 'float'): AttributeProto {
  if (typeof value === 'string') {
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.STRING,
      s: new TextEncoder().encode(value),
    });
  }
  if (typeof value === 'number') {
    const isInt = kind ? kind === 'int' : Number.isInteger(value);
    return isInt
      ? create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) })
      : create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value });
  }
  if (Array.isArray(value)) {
    const isInt = kind ? kind === 'int' : value.every(Number.isInteger);
    return isInt
      ? create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: value.map(BigInt) })
      : create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOATS, floats: value });
  }
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.TENSOR, t: value });
}

export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attrs: Record<string, AttrValue> = {},
  domain = '',
): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    input: [...inputs],
    output: [...outputs],
    name,
    domain,
    attribute: Object.entries(attrs).map(([k, v]) => makeAttribute(k, v)),
  });
}

export function makeValueInfo(name: string, elemType?: number, shape?: readonly (number | string)[]): ValueInfoProto {
  if (elemType === undefined) return create(ValueInfoProtoSchema, { name });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType,
          ...(shape
            ? {
                shape: {
                  dim: shape.map((d) =>
                    typeof d === 'number'
                      ? { value: { case: 'dimValue' as const, value: BigInt(d) } }
                      : { value: { case: 'dimParam' as const, value: d } },
                  ),
                },
              }
            : {}),
        }),
      },
    }),
  });
}

export function makeOpset(domain: string, version: number) {
  return create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) });
}

export function getAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a ? toInt(a.i, `${node.name}.${name}`) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = getAttr(node, name);
  return a ? a.ints.map((v) => toInt(v, `${node.name}.${name}`)) : undefined;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a ? a.f : fallback;
}

export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = getAttr(node, name);
  return a ? new TextDecoder().decode(a.s) : fallback;
}

/** The default-domain opset version a model imports. */
export function defaultOpset(model: ModelProto): number {
  const o = model.opsetImport.find((x) => x.domain === '' || x.domain === 'ai.onnx');
  return o ? toInt(o.version, 'opset version') : 1;
}

/** Shape of a value info as numbers and symbolic names ('?' when unknown). */
export function valueInfoShape(v: ValueInfoProto): (number | string)[] | undefined {
  if (v.type?.value.case !== 'tensorType') return undefined;
  const shape = v.type.value.value.shape;
  if (!shape) return undefined;
  return shape.dim.map((d) =>
    d.value.case === 'dimValue'
      ? toInt(d.value.value, `shape of ${v.name}`)
      : d.value.case === 'dimParam'
        ? d.value.value
        : '?',
  );
}

export function valueInfoElemType(v: ValueInfoProto): number | undefined {
  return v.type?.value.case === 'tensorType' ? v.type.value.value.elemType : undefined;
}

/**
 * A copy of a model to rewrite, whose main-graph initializers are the original TensorProto objects
 * (a 100 MB model's weights are not copied). Passes that use it treat those tensors as read-only and
 * replace, never mutate, the ones they change.
 */
export function cloneSharingInitializers(model: ModelProto): ModelProto {
  const g = model.graph;
  if (!g) return clone(ModelProtoSchema, model);
  const inits = g.initializer;
  g.initializer = [];
  try {
    const out = clone(ModelProtoSchema, model);
    out.graph!.initializer = [...inits];
    return out;
  } finally {
    g.initializer = inits;
  }
}
