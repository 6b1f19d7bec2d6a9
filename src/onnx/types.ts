/**
 * Element-type inference, just enough to know which tensors are float32 (and so can be
 * quantized): graph inputs and initializers are typed; each op's output type follows its
 * definition (onnx/docs/Operators.md) or, for the many ops that keep their input's type, input 0.
 */
import { attrInt, getAttr, valueInfoElemType, type GraphProto } from './proto';
import { DT } from './tensor';

const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);
const BOOL_OUT = new Set([
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
]);

export function inferElemTypes(graph: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const v of [...graph.input, ...graph.valueInfo, ...graph.output]) {
    const t = valueInfoElemType(v);
    if (t) types.set(v.name, t);
  }
  for (const t of graph.initializer) types.set(t.name, t.dataType);
  for (const n of graph.node) {
    const first = n.input[0] ? types.get(n.input[0]) : undefined;
    let out: number | undefined;
    if (INT64_OUT.has(n.opType)) out = DT.INT64;
    else if (BOOL_OUT.has(n.opType)) out = DT.BOOL;
    else if (n.opType === 'Cast') out = attrInt(n, 'to', 0) || undefined;
    else if (n.opType === 'Constant')
      out =
        getAttr(n, 'value')?.t?.dataType ?? (getAttr(n, 'value_int') || getAttr(n, 'value_ints') ? DT.INT64 : DT.FLOAT);
    else if (n.opType === 'ConstantOfShape') out = getAttr(n, 'value')?.t?.dataType ?? DT.FLOAT;
    else if (n.opType === 'Where') out = n.input[1] ? types.get(n.input[1]) : undefined;
    else if (n.opType === 'DequantizeLinear') out = n.input[1] ? (types.get(n.input[1]) ?? DT.FLOAT) : DT.FLOAT;
    else if (n.opType === 'MatMulInteger' || n.opType === 'ConvInteger') out = DT.INT32;
    else if (n.opType === 'QuantizeLinear') out = n.input[2] ? types.get(n.input[2]) : DT.UINT8;
    else if (n.opType === 'If') {
      // each output's type is the then branch's output's (onnx/docs/Operators.md, If)
      const branch = n.attribute.find((a) => a.name === 'then_branch')?.g;
      branch?.output.forEach((o, i) => {
        const t = valueInfoElemType(o);
        if (t && n.output[i]) types.set(n.output[i]!, t);
      });
      continue;
    } else if (
      n.opType === 'Range' ||
      n.opType === 'EyeLike' ||
      n.opType === 'RandomNormal' ||
      n.opType === 'RandomUniform'
    ) {
      out = first ?? DT.FLOAT;
    } else out = first;
    if (out === undefined) continue;
    n.output.forEach((o, i) => {
      if (!o || types.has(o)) return;
      if (n.opType === 'DynamicQuantizeLinear') types.set(o, i === 1 ? DT.FLOAT : DT.UINT8);
      else if (n.opType === 'TopK' && i === 1) types.set(o, DT.INT64);
      else if ((n.opType === 'MaxPool' && i === 1) || (n.opType === 'Unique' && i > 0)) types.set(o, DT.INT64);
      else types.set(o, out);
    });
  }
  return types;
}
