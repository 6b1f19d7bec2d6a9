/**
 * The TFLite model being written: tensors, constant buffers, operator codes and operators, in the
 * shape of TFLite's schema (schema/generated.ts). Buffer 0 is the empty sentinel the schema requires.
 */
import { bytesOf } from '../../proto';
import {
  BuiltinOperator,
  TensorType,
  type Model,
  type Operator,
  type OperatorCode,
  type Tensor,
  type UnionValue,
} from './schema/generated';

export type OpName = keyof typeof BuiltinOperator & string;
export type TflType = keyof typeof TensorType & string;

export interface Quant {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  /** The axis the scales run along (per-channel weights and biases). */
  readonly dim?: number;
}

export interface EmittedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: TflType;
  readonly buffer: number;
  readonly quant?: Quant;
}

export interface EmittedOp {
  readonly op: OpName;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options?: UnionValue;
  /** The ONNX node it came from (the report). */
  readonly from: string;
  /** Index into the model's operator codes. */
  readonly code: number;
  readonly version: number;
}

const ELEMENT_BYTES: Record<string, number> = { FLOAT32: 4, FLOAT16: 2, INT32: 4, INT8: 1, UINT8: 1, INT64: 8 };

export function elementBytes(t: TflType): number {
  return ELEMENT_BYTES[t] ?? 4;
}

/**
 * Operator versions: the lowest version of each builtin that takes the types written here (TFLite's
 * tensorflow/lite/tools/versioning/op_version.cc): int8 kernels arrived as version 2 or 3 of most ops.
 */
function opVersion(op: OpName, int8: boolean, extra: { bias?: boolean; halfPixel?: boolean; fp16?: boolean }): number {
  if (op === 'TRANSPOSE_CONV') return extra.bias ? 3 : int8 ? 2 : 1;
  if (op === 'DEQUANTIZE') return extra.fp16 ? 3 : int8 ? 2 : 1;
  if (op === 'RESIZE_NEAREST_NEIGHBOR' && extra.halfPixel) return 3;
  if (op === 'RESIZE_BILINEAR' && extra.halfPixel) return 3;
  if (!int8) return 1;
  switch (op) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
      return 3;
    case 'FULLY_CONNECTED':
      return 4;
    case 'RESHAPE':
    case 'HARD_SWISH':
      return 1;
    default:
      return 2;
  }
}

export class TfliteEmitter {
  readonly tensors: EmittedTensor[] = [];
  readonly buffers: Uint8Array[] = [new Uint8Array(0)];
  readonly ops: EmittedOp[] = [];
  private readonly codes = new Map<string, number>();
  private readonly codeList: OperatorCode[] = [];
  private readonly names = new Set<string>();

  /** A tensor name not used yet (TFLite does not require unique names; readers are kinder with them). */
  uniqueName(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  tensor(name: string, shape: readonly number[], type: TflType, quant?: Quant, data?: Uint8Array): number {
    let buffer = 0;
    if (data) {
      buffer = this.buffers.length;
      this.buffers.push(data);
    }
    this.tensors.push({ name: this.uniqueName(name), shape: [...shape], type, buffer, ...(quant ? { quant } : {}) });
    return this.tensors.length - 1;
  }

  int32Const(name: string, values: readonly number[], shape: readonly number[] = [values.length]): number {
    return this.tensor(name, shape, 'INT32', undefined, bytesOf(Int32Array.from(values)));
  }

  op(
    op: OpName,
    inputs: readonly number[],
    outputs: readonly number[],
    from: string,
    options?: UnionValue,
    extra: { bias?: boolean; halfPixel?: boolean; fp16?: boolean } = {},
  ): void {
    const int8 = inputs.some((i) => i >= 0 && this.tensors[i]!.type === 'INT8');
    const version = opVersion(op, int8, extra);
    const key = `${op}/${version}`;
    let index = this.codes.get(key);
    if (index === undefined) {
      index = this.codeList.length;
      const code = BuiltinOperator[op];
      // deprecated_builtin_code holds codes below 127 (PLACEHOLDER_FOR_GREATER_OP_CODES); builtin_code all.
      this.codeList.push({ deprecated_builtin_code: Math.min(code, 127), builtin_code: code, version });
      this.codes.set(key, index);
    }
    this.ops.push({
      op,
      inputs: [...inputs],
      outputs: [...outputs],
      from,
      code: index,
      version,
      ...(options ? { options } : {}),
    });
  }

  /** The Model table (schema version 3) with one subgraph. */
  model(inputs: readonly number[], outputs: readonly number[], description: string): Model {
    const tensors: Tensor[] = this.tensors.map((t) => ({
      shape: t.shape,
      type: TensorType[t.type],
      buffer: t.buffer,
      name: t.name,
      has_rank: true,
      ...(t.quant
        ? {
            quantization: {
              scale: t.quant.scale,
              zero_point: t.quant.zeroPoint,
              ...(t.quant.dim ? { quantized_dimension: t.quant.dim } : {}),
            },
          }
        : {}),
    }));
    const operators: Operator[] = this.ops.map((o) => ({
      opcode_index: o.code,
      inputs: o.inputs,
      outputs: o.outputs,
      ...(o.options ? { builtin_options: o.options as Operator['builtin_options'] } : {}),
    }));
    return {
      version: 3,
      operator_codes: this.codeList,
      subgraphs: [{ tensors, inputs, outputs, operators, name: 'main' }],
      description,
      buffers: this.buffers.map((data) => (data.length ? { data } : {})),
    };
  }
}
