/**
 * The weight-SQNR guard over a written export (core/guardWeights.ts for the math): every
 * DequantizeLinear of an initializer in the export is a quantized weight; its codes, scales and zero
 * points are read from the export's own tensors and dequantized, and the float weight the same node
 * reads in the float model (same node name, same input) is read from the float model's tensors. Both
 * may be lazy (external data: onnx/externalData.ts), read one weight at a time and dropped: the
 * command line and the page check a model too large to run here this way, holding one weight.
 */
import { QuantscopeError } from '../core/errors';
import { unpackInt4 } from '../core/quantize';
import { dequantizeWeight, judgeWeights, weightError, type WeightError } from '../core/guardWeights';
import type { GuardVerdict } from '../core/guard';
import { attrInt, DT, isExternal, readFloat32, readTensorBytes, type ModelProto, type TensorProto } from '../onnx';
import { indexGraph } from '../onnx/graph';
import { elementCount } from '../onnx/tensor';

/** A tensor's values with its bytes read (lazy or not), as numbers: the integer types DequantizeLinear takes, or float. */
async function readValues(t: TensorProto): Promise<ArrayLike<number>> {
  const raw = t.rawData.length > 0 || isExternal(t) ? await readTensorBytes(t) : null;
  const n = elementCount(t);
  if (!raw) {
    // values in typed fields (small tensors: scales, zero points)
    if (t.dataType === DT.FLOAT) return t.floatData;
    return t.int32Data;
  }
  const copy = raw.slice(); // aligned, private
  switch (t.dataType) {
    case DT.INT8:
      return new Int8Array(copy.buffer, 0, n);
    case DT.UINT8:
      return copy.subarray(0, n);
    case DT.INT16:
      return new Int16Array(copy.buffer, 0, n);
    case DT.UINT16:
      return new Uint16Array(copy.buffer, 0, n);
    case DT.INT32:
      return new Int32Array(copy.buffer, 0, n);
    case DT.INT4:
    case DT.UINT4:
      return unpackInt4(copy, n, t.dataType === DT.INT4);
    default:
      return readFloat32({ ...t, rawData: copy, dataLocation: 0, externalData: [] } as TensorProto);
  }
}

export interface WeightGuardOptions {
  readonly targetDb: number;
  /** Where the verdict came from, in words. */
  readonly source: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Check every quantized weight of `exported` against `float`, one at a time. Null when the export has
 * no DequantizeLinear weight the float model matches (MatMulNBits, float16: nothing this check reads).
 */
export async function checkWeightsStreamed(
  float: ModelProto,
  exported: ModelProto,
  opts: WeightGuardOptions,
): Promise<GuardVerdict | null> {
  const fg = float.graph!;
  const eg = exported.graph!;
  const fi = indexGraph(fg);
  const ei = indexGraph(eg);
  const floatNodes = new Map(fg.node.map((n) => [n.name, n]));
  const dqs = eg.node.filter((n) => n.opType === 'DequantizeLinear' && ei.initializers.has(n.input[0]!));
  const errors: WeightError[] = [];
  let done = 0;
  for (const dq of dqs) {
    if (opts.signal?.aborted) throw new QuantscopeError('CANCELLED', 'the weight check was cancelled');
    // the float weight: what the node reading the dequantized weight reads there in the float model
    const reader = (ei.consumers.get(dq.output[0]!) ?? [])[0];
    const at = reader ? reader.input.indexOf(dq.output[0]!) : -1;
    const floatName = reader ? floatNodes.get(reader.name)?.input[at] : undefined;
    const fw = floatName ? fi.initializers.get(floatName) : undefined;
    done++;
    if (!reader || !fw || !(fw.dataType === DT.FLOAT || fw.dataType === DT.FLOAT16 || fw.dataType === DT.BFLOAT16))
      continue;
    const q = ei.initializers.get(dq.input[0]!)!;
    const scale = dq.input[1] ? ei.initializers.get(dq.input[1]) : undefined;
    const zp = dq.input[2] ? ei.initializers.get(dq.input[2]) : undefined;
    if (!scale) continue; // a scale computed in the graph: not a stored weight
    const dims = q.dims.map(Number);
    if (dims.join() !== fw.dims.map(Number).join()) continue; // reshaped on the way: not this weight's layout
    const deq = dequantizeWeight(
      await readValues(q),
      dims,
      await readValues(scale),
      zp ? await readValues(zp) : null,
      attrInt(dq, 'axis', 1),
      attrInt(dq, 'block_size', 0),
    );
    const w = await readValues(fw);
    errors.push(weightError(floatName!, reader.name, w, deq));
    opts.onProgress?.(done, dqs.length);
  }
  if (errors.length === 0) return null;
  return judgeWeights(
    errors,
    opts.targetDb,
    `${errors.length} quantized weight${errors.length === 1 ? '' : 's'} checked tensor by tensor, float against dequantized; ${opts.source}`,
  );
}
