/**
 * Dynamic quantization, as onnxruntime's quantize_dynamic writes it (onnxruntime/python/tools/
 * quantization/operators/matmul.py, conv.py; ONNX DynamicQuantizeLinear-11, MatMulInteger-10,
 * ConvInteger-10):
 *
 *   x → DynamicQuantizeLinear → (x_q uint8, x_scale, x_zp)        [computed per run, from x itself]
 *   MatMulInteger(x_q, W_q, x_zp, W_zp) / ConvInteger(...) → int32
 *   → Cast(float) → Mul(x_scale · W_scale) (→ Add bias for Gemm and Conv)
 *
 * Weights are quantized ahead: int8 symmetric per output column for MatMul and Gemm (MatMulInteger
 * takes uint8 × int8 and a per-column zero point), uint8 asymmetric per tensor for Conv, because
 * onnxruntime's ConvInteger takes uint8 weights only on the web and a single weight zero point. Gemm becomes MatMulInteger on its (transposed, if transB) weight. The
 * activations need no calibration: each run measures its own range.
 */
import { DTYPES, type IntDType } from '../../core/dtype';
import { quantizeWeightPerChannel, quantizeWeightPerTensor } from '../../core/weights';
import { pruneInitializers, readNames, uniqueNamer } from '../graph';
import {
  attrFloat,
  attrInt,
  bytesOf,
  cloneSharingInitializers,
  defaultOpset,
  makeNode,
  makeTensor,
  type ModelProto,
  type NodeProto,
} from '../proto';
import { readFloat32 } from '../tensor';
import type { FormReport } from './weightOnly';

export interface DynamicOptions {
  readonly ops?: readonly string[];
  readonly exclude?: readonly string[];
}

function intTensorBytes(dtype: IntDType, q: ArrayLike<number>): Uint8Array {
  const a = dtype === 'int8' ? Int8Array.from(q) : Uint8Array.from(q);
  return bytesOf(a);
}

export function dynamicQuantize(model: ModelProto, o: DynamicOptions = {}): { model: ModelProto; report: FormReport } {
  const out = cloneSharingInitializers(model);
  const g = out.graph!;
  const name = uniqueNamer(g);
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const ops = new Set(o.ops ?? ['MatMul', 'Gemm', 'Conv']);
  const exclude = new Set(o.exclude ?? []);
  const quantized: FormReport['quantizedNodes'][number][] = [];
  const floatNodes: FormReport['floatNodes'][number][] = [];
  const replace = new Map<NodeProto, NodeProto[]>();
  const dynq = new Map<string, [string, string, string]>(); // activation → its DynamicQuantizeLinear outputs
  const used = new Set<string>();
  const quantizeInput = (x: string, before: NodeProto[]): [string, string, string] => {
    let q = dynq.get(x);
    if (!q) {
      q = [name(`${x}_quantized`), name(`${x}_scale`), name(`${x}_zero_point`)];
      before.push(makeNode('DynamicQuantizeLinear', [x], q, name(`${x}_DynamicQuantizeLinear`)));
      dynq.set(x, q);
    }
    return q;
  };
  for (const node of g.node) {
    if (!ops.has(node.opType)) continue;
    if (exclude.has(node.name)) {
      floatNodes.push({ node: node.name, opType: node.opType, reason: 'kept float by choice' });
      continue;
    }
    const w = inits.get(node.input[1]!);
    if (!w || w.dataType !== 1) {
      floatNodes.push({
        node: node.name,
        opType: node.opType,
        reason: 'its weight is not a constant float32 initializer',
      });
      continue;
    }
    const dims = w.dims.map(Number);
    let data = readFloat32(w);
    let wDims = dims;
    if (node.opType === 'Gemm') {
      if (attrInt(node, 'transA', 0) || attrFloat(node, 'alpha', 1) !== 1 || attrFloat(node, 'beta', 1) !== 1) {
        floatNodes.push({
          node: node.name,
          opType: node.opType,
          reason: 'Gemm with transA, alpha or beta other than the defaults',
        });
        continue;
      }
      if (attrInt(node, 'transB', 0)) {
        const [n, k] = dims as [number, number];
        const t = new Float32Array(k * n);
        for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) t[c * n + r] = data[r * k + c]!;
        data = t;
        wDims = [k, n];
      }
    }
    if (node.opType !== 'Conv' && wDims.length !== 2) {
      floatNodes.push({ node: node.name, opType: node.opType, reason: `its weight has rank ${wDims.length}, not 2` });
      continue;
    }
    const conv = node.opType === 'Conv';
    const bias = node.input[2];
    if (conv && bias && !inits.has(bias)) {
      floatNodes.push({ node: node.name, opType: node.opType, reason: 'its bias is not a constant' });
      continue;
    }
    const dtype: IntDType = conv ? 'uint8' : 'int8';
    const qw = conv
      ? quantizeWeightPerTensor(data, { dtype, symmetric: false })
      : quantizeWeightPerChannel(data, wDims, 1, { dtype, symmetric: true });
    const base = node.input[1]!;
    const wq = name(`${base}_quantized`);
    const ws = name(`${base}_scale`);
    const wz = name(`${base}_zero_point`);
    g.initializer.push(makeTensor(wq, DTYPES[dtype].onnx, wDims, intTensorBytes(dtype, qw.data)));
    // the scale broadcasts over the output: [N] for MatMul, a scalar for Conv (per tensor)
    g.initializer.push(makeTensor(ws, 1, conv ? [] : [wDims[1]!], bytesOf(qw.scales)));
    g.initializer.push(
      makeTensor(wz, DTYPES[dtype].onnx, conv ? [] : [qw.zeroPoints.length], intTensorBytes(dtype, qw.zeroPoints)),
    );
    const nodes: NodeProto[] = [];
    const [xq, xs, xz] = quantizeInput(node.input[0]!, nodes);
    const acc = name(`${node.output[0]}_int32`);
    const intOp = conv
      ? makeNode('ConvInteger', [xq, wq, xz, wz], [acc], name(`${node.name}_ConvInteger`))
      : makeNode('MatMulInteger', [xq, wq, xz, wz], [acc], name(`${node.name}_MatMulInteger`));
    if (conv) intOp.attribute = node.attribute.filter((a) => a.name !== 'auto_pad' || a.s.length > 0);
    nodes.push(intOp);
    const accF = name(`${node.output[0]}_float`);
    nodes.push(makeNode('Cast', [acc], [accF], name(`${node.name}_Cast`), { to: 1 }));
    const scale = name(`${node.output[0]}_scale`);
    nodes.push(makeNode('Mul', [xs, ws], [scale], name(`${node.name}_scale_Mul`)));
    const scaled = bias ? name(`${node.output[0]}_scaled`) : node.output[0]!;
    nodes.push(makeNode('Mul', [accF, scale], [scaled], name(`${node.name}_output_Mul`)));
    if (bias) {
      let b = bias;
      if (conv) {
        // Conv's bias is [M]: reshaped to [M, 1, 1, ...] to add over the channels
        b = name(`${bias}_reshaped`);
        g.initializer.push(
          makeTensor(b, 1, [wDims[0]!, ...wDims.slice(2).map(() => 1)], bytesOf(readFloat32(inits.get(bias)!))),
        );
      }
      nodes.push(makeNode('Add', [scaled, b], [node.output[0]!], name(`${node.name}_bias_Add`)));
    }
    replace.set(node, nodes);
    used.add(base);
    quantized.push({
      node: node.name,
      opType: node.opType,
      weight: base,
      how: `${dtype} per channel, activations uint8 per run`,
    });
  }
  g.node = g.node.flatMap((n) => replace.get(n) ?? [n]);
  const stillRead = readNames(g);
  g.initializer = g.initializer.filter((t) => !used.has(t.name) || stillRead.has(t.name));
  pruneInitializers(g); // e.g. a Conv bias replaced by its reshaped copy
  return {
    model: out,
    report: {
      form: 'dynamic (DynamicQuantizeLinear + MatMulInteger/ConvInteger)',
      quantizedNodes: quantized,
      floatNodes,
      notes: [],
      opset: defaultOpset(out),
    },
  };
}
