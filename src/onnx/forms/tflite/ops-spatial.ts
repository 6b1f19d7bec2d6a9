/** Concat, pooling, Pad, Resize and Slice: ops whose output keeps the input's parameters (or the union). */
import type { QParams } from '../../../core/qparams';
import { attrInt, attrInts, dimsOf, type NodeProto } from '../../proto';
import { readFloat32, readInts } from '../../tensor';
import { resizeMapping } from './ops';
import { NHWC, tflAxis, padding, minMax, fail, PADDING } from './layout';
import type { Ctx } from './ctx';

export function convertConcat(c: Ctx, node: NodeProto): void {
  const { e, vals, int8, outParams, newAct, val, requantized } = c;
  const xs = node.input.map((t) => val(node, t));
  const rank = xs[0]!.shape.length;
  const axis = attrInt(node, 'axis', 0);
  const ax = axis < 0 ? axis + rank : axis;
  const shape = [...xs[0]!.shape];
  shape[ax] = xs.reduce((a, v) => a + v.shape[ax]!, 0);
  let q: QParams | undefined;
  if (int8) q = outParams(node.output[0]!, minMax(xs.flatMap((v) => [...(v.range ?? [0, 0])])), 'union of its inputs');
  const ins = xs.map((v) => requantized(node, v, q));
  const out = newAct(node.output[0]!, shape, q);
  e.op('CONCATENATION', ins, [out.index], node.name, {
    type: 'ConcatenationOptions',
    value: { axis: tflAxis(ax, rank) },
  });
  vals.set(node.output[0]!, out);
}

export function convertPool(c: Ctx, node: NodeProto): void {
  const { e, vals, newAct, val, padValue } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const k = attrInts(node, 'kernel_shape')!;
  const s = attrInts(node, 'strides') ?? [1, 1];
  const d = attrInts(node, 'dilations') ?? [1, 1];
  if (d.some((v) => v !== 1)) fail(node, 'dilated pooling');
  const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  const inHW = x.shape.slice(2);
  const outHW = inHW.map((n, i) => Math.floor((n + pads[i]! + pads[i + 2]! - k[i]!) / s[i]!) + 1);
  let p = padding(inHW, outHW, k, s, d, pads);
  let xin = x;
  if (p.explicit) {
    // A PAD before a pool changes the result unless the pad cells count (average with count_include_pad).
    if (node.opType === 'MaxPool' || attrInt(node, 'count_include_pad', 0) !== 1)
      fail(node, `pads [${pads}] match neither TFLite's SAME nor VALID`);
    xin = padValue(node, x, [0, 0, p.explicit[0]!, p.explicit[1]!, 0, 0, p.explicit[2]!, p.explicit[3]!]);
    p = { padding: 'VALID' };
  }
  const outShape = [x.shape[0]!, x.shape[1]!, outHW[0]!, outHW[1]!];
  const out = newAct(node.output[0]!, outShape, xin.q);
  e.op(node.opType === 'MaxPool' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', [xin.index], [out.index], node.name, {
    type: 'Pool2DOptions',
    value: {
      padding: PADDING[p.padding],
      stride_w: s[1]!,
      stride_h: s[0]!,
      filter_width: k[1]!,
      filter_height: k[0]!,
    },
  });
  vals.set(node.output[0]!, out);
}

export function convertGlobalAveragePool(c: Ctx, node: NodeProto): void {
  const { e, vals, int8, outParams, newAct, val } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const outShape = [x.shape[0]!, x.shape[1]!, 1, 1];
  const q = int8 ? outParams(node.output[0]!, x.range, 'its input range (a mean stays inside it)') : undefined;
  const out = newAct(node.output[0]!, outShape, q);
  e.op('MEAN', [x.index, e.int32Const(`${node.name}_axes`, [1, 2])], [out.index], node.name, {
    type: 'ReducerOptions',
    value: { keep_dims: true },
  });
  vals.set(node.output[0]!, out);
}

export function convertPad(c: Ctx, node: NodeProto): void {
  const { e, vals, index, val, padValue } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const pads = readInts(index.initializers.get(node.input[1]!)!);
  const y = padValue(node, x, pads);
  vals.set(node.output[0]!, y);
  e.tensors[y.index] = { ...e.tensors[y.index]!, name: e.uniqueName(node.output[0]!) };
}

export function convertResize(c: Ctx, node: NodeProto): void {
  const { e, vals, index, newAct, val } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const m = resizeMapping(node) as Exclude<ReturnType<typeof resizeMapping>, string>;
  const scalesT = node.input[2] ? index.initializers.get(node.input[2]) : undefined;
  const sizesT = node.input[3] ? index.initializers.get(node.input[3]) : undefined;
  let outShape: number[];
  if (sizesT && dimsOf(sizesT)[0]) outShape = readInts(sizesT);
  else if (scalesT && dimsOf(scalesT)[0]) {
    const sc = readFloat32(scalesT);
    outShape = x.shape.map((d, i) => Math.floor(d * sc[i]!));
  } else fail(node, 'Resize with neither scales nor sizes');
  if (outShape[0] !== x.shape[0] || outShape[1] !== x.shape[1]) fail(node, 'Resize of the batch or channel axis');
  const out = newAct(node.output[0]!, outShape, x.q);
  e.op(
    m.op,
    [x.index, e.int32Const(`${node.name}_size`, [outShape[2]!, outShape[3]!])],
    [out.index],
    node.name,
    {
      type: m.op === 'RESIZE_BILINEAR' ? 'ResizeBilinearOptions' : 'ResizeNearestNeighborOptions',
      value: { align_corners: m.alignCorners, half_pixel_centers: m.halfPixel },
    },
    { halfPixel: m.halfPixel },
  );
  vals.set(node.output[0]!, out);
}

export function convertSlice(c: Ctx, node: NodeProto): void {
  const { e, vals, index, newAct, val } = c;
  const x0 = node.input[0];
  const x = val(node, x0!);
  const rank = x.shape.length;
  const starts = readInts(index.initializers.get(node.input[1]!)!);
  const ends = readInts(index.initializers.get(node.input[2]!)!);
  const axes = node.input[3] ? readInts(index.initializers.get(node.input[3])!) : starts.map((_, i) => i);
  const steps = node.input[4] ? readInts(index.initializers.get(node.input[4])!) : starts.map(() => 1);
  if (steps.some((st) => st < 1)) fail(node, 'Slice with negative steps');
  const begin = new Array<number>(rank).fill(0);
  const end = [...x.shape];
  const stride = new Array<number>(rank).fill(1);
  axes.forEach((a0, i) => {
    const a = a0 < 0 ? a0 + rank : a0;
    const n = x.shape[a]!;
    const clampI = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    begin[a] = clampI(starts[i]!);
    end[a] = Math.max(clampI(ends[i]!), begin[a]!);
    stride[a] = steps[i]!;
  });
  const outShape = x.shape.map((_, a) => Math.ceil((end[a]! - begin[a]!) / stride[a]!));
  // STRIDED_SLICE, not SLICE: TFLite Micro registers only the former (micro.ts).
  const out = newAct(node.output[0]!, outShape, x.q);
  const fileOrder = (v: number[]) => (rank === 4 ? NHWC.map((i) => v[i]!) : v);
  e.op(
    'STRIDED_SLICE',
    [
      x.index,
      e.int32Const(`${node.name}_begin`, fileOrder(begin)),
      e.int32Const(`${node.name}_end`, fileOrder(end)),
      e.int32Const(`${node.name}_strides`, fileOrder(stride)),
    ],
    [out.index],
    node.name,
    { type: 'StridedSliceOptions', value: {} },
  );
  vals.set(node.output[0]!, out);
}
