/** Conv, ConvTranspose and Gemm/MatMul as CONV_2D / DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED. */
import { attrFloat, attrInt, attrInts, dimsOf, type NodeProto } from '../../proto';
import { readFloat32 } from '../../tensor';
import { tflShape, permute, padding, samePads, fail, ACT, PADDING } from './layout';
import type { Ctx } from './ctx';

export function convertConv(c: Ctx, node: NodeProto): void {
  const { e, vals, index, int8, outParams, newAct, val, weight, outputOf, padValue } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const w = index.initializers.get(node.input[1]!)!;
  const ws = dimsOf(w);
  const group = attrInt(node, 'group', 1);
  const k = ws.slice(2);
  const s = attrInts(node, 'strides') ?? [1, 1];
  const d = attrInts(node, 'dilations') ?? [1, 1];
  const autoPad = node.attribute.find((a) => a.name === 'auto_pad');
  let pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  const inHW = x.shape.slice(2);
  if (autoPad && new TextDecoder().decode(autoPad.s).startsWith('SAME')) {
    pads = samePads(inHW, k, s, d, new TextDecoder().decode(autoPad.s) === 'SAME_LOWER');
  }
  const outHW = inHW.map((n, i) => Math.floor((n + pads[i]! + pads[i + 2]! - ((k[i]! - 1) * d[i]! + 1)) / s[i]!) + 1);
  const outShape = [x.shape[0]!, ws[0]!, outHW[0]!, outHW[1]!];
  const p = padding(inHW, outHW, k, s, d, pads);
  const xin = p.explicit
    ? padValue(node, x, [0, 0, p.explicit[0]!, p.explicit[1]!, 0, 0, p.explicit[2]!, p.explicit[3]!])
    : x;
  const depthwise = group !== 1;
  const bias = node.input[2] ? readFloat32(index.initializers.get(node.input[2])!) : undefined;
  const { w: wi, b: bi } = weight(
    node,
    readFloat32(w),
    ws,
    0,
    depthwise ? [1, 2, 3, 0] : [0, 2, 3, 1],
    true,
    xin.q,
    bias,
    depthwise ? 3 : 0,
  );
  const o = outputOf(node);
  const q = int8 ? outParams(o.name, undefined, '') : undefined;
  const out = newAct(o.name, outShape, q);
  const common = {
    padding: PADDING[p.padding],
    stride_w: s[1]!,
    stride_h: s[0]!,
    fused_activation_function: ACT[o.fusedAct],
    dilation_w_factor: d[1]!,
    dilation_h_factor: d[0]!,
  };
  if (depthwise) {
    e.op('DEPTHWISE_CONV_2D', [xin.index, wi, bi], [out.index], node.name, {
      type: 'DepthwiseConv2DOptions',
      value: { ...common, depth_multiplier: ws[0]! / group },
    });
  } else e.op('CONV_2D', [xin.index, wi, bi], [out.index], node.name, { type: 'Conv2DOptions', value: common });
  vals.set(o.name, out);
}

export function convertConvTranspose(c: Ctx, node: NodeProto): void {
  const { e, vals, index, int8, outParams, newAct, val, weight, outputOf } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const w = index.initializers.get(node.input[1]!)!;
  const ws = dimsOf(w); // [C_in, C_out, kH, kW]
  const k = ws.slice(2);
  const s = attrInts(node, 'strides') ?? [1, 1];
  const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  const outPad = attrInts(node, 'output_padding') ?? [0, 0];
  const inHW = x.shape.slice(2);
  const explicitOut = attrInts(node, 'output_shape');
  const outHW = explicitOut ?? inHW.map((n, i) => (n - 1) * s[i]! + k[i]! - pads[i]! - pads[i + 2]! + outPad[i]!);
  // TFLite's TRANSPOSE_CONV crops pad_before = floor(total/2) of the full (in-1)*s+k output (SAME) or
  // none (VALID), from the output_shape given: accept the ONNX pads that match one of them.
  const full = inHW.map((n, i) => (n - 1) * s[i]! + k[i]!);
  let mode: 'SAME' | 'VALID' | null = null;
  if (pads.every((pv) => pv === 0) && outHW.every((n, i) => n <= full[i]!)) mode = 'VALID';
  const sameOk = outHW.every((n, i) => {
    const total = Math.max(full[i]! - n, 0);
    return pads[i] === Math.floor(total / 2) && n === inHW[i]! * s[i]!;
  });
  if (!mode && sameOk) mode = 'SAME';
  if (!mode) fail(node, `pads [${pads}] match neither TFLite's SAME nor VALID cropping`);
  const outShape = [x.shape[0]!, ws[1]!, outHW[0]!, outHW[1]!];
  const bias = node.input[2] ? readFloat32(index.initializers.get(node.input[2])!) : new Float32Array(ws[1]!);
  const { w: wi, b: bi } = weight(node, readFloat32(w), ws, 1, [1, 2, 3, 0], true, x.q, bias, 0);
  const o = outputOf(node);
  const q = int8 ? outParams(o.name, undefined, '') : undefined;
  const out = newAct(o.name, outShape, q);
  const shapeT = e.int32Const(`${o.name}_output_shape`, tflShape(outShape));
  e.op(
    'TRANSPOSE_CONV',
    [shapeT, wi, x.index, bi],
    [out.index],
    node.name,
    {
      type: 'TransposeConvOptions',
      value: {
        padding: PADDING[mode!],
        stride_w: s[1]!,
        stride_h: s[0]!,
        fused_activation_function: ACT[o.fusedAct],
      },
    },
    { bias: true },
  );
  vals.set(o.name, out);
}

export function convertGemm(ctx: Ctx, node: NodeProto): void {
  const { e, vals, index, opts, int8, outParams, newAct, val, weight, outputOf, toOnnxOrder } = ctx;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const w = index.initializers.get(node.input[1]!)!;
  let ws = dimsOf(w);
  let data = readFloat32(w);
  const transB = node.opType === 'Gemm' ? attrInt(node, 'transB', 0) : 0;
  if (!transB) {
    data = permute(data, ws, [1, 0], (n) => new Float32Array(n));
    ws = [ws[1]!, ws[0]!];
  }
  const alpha = node.opType === 'Gemm' ? attrFloat(node, 'alpha', 1) : 1;
  const beta = node.opType === 'Gemm' ? attrFloat(node, 'beta', 1) : 1;
  if (alpha !== 1) data = data.map((v) => v * alpha);
  let bias: Float32Array | undefined;
  if (node.opType === 'Gemm' && node.input[2]) {
    const c = readFloat32(index.initializers.get(node.input[2])!);
    if (c.length !== ws[0]! && c.length !== 1) fail(node, `C of ${c.length} values is not a per-output bias`);
    bias = c.length === 1 ? new Float32Array(ws[0]!).fill(c[0]! * beta) : c.map((v) => v * beta);
  }
  const perChannel = opts.fullyConnectedPerChannel === true;
  const xin = x.shape.length === 2 ? x : toOnnxOrder(node, x);
  const { w: wi, b: bi } = weight(node, data, ws, 0, null, perChannel, x.q, bias, 0);
  const outShape = [...x.shape.slice(0, -1), ws[0]!];
  const o = outputOf(node);
  const q = int8 ? outParams(o.name, undefined, '') : undefined;
  const out = newAct(o.name, outShape, q);
  e.op('FULLY_CONNECTED', [xin.index, wi, bi], [out.index], node.name, {
    type: 'FullyConnectedOptions',
    value: { fused_activation_function: ACT[o.fusedAct], keep_num_dims: x.shape.length > 2 },
  });
  vals.set(o.name, out);
}
