/**
 * Weight-only quantization: weights stored as int8/int4 (activations stay float), in two forms.
 *
 *  - `dq`: the weight becomes W_q + scales (+ zero points) → DequantizeLinear → the op, for MatMul,
 *    Gemm, Conv and Gather (embeddings). Per output channel (axis: MatMul's N = 1, Gemm's N = 0 with
 *    transB, Conv's M = 0, Gather's rows = 0) or per block of `blockSize` along the reduction axis
 *    (MatMul K = 0, Gemm K, Gather D = 1; DequantizeLinear-21 `block_size`). Rules: onnxruntime's
 *    quantize_static (core/blockwise.ts `qdq`): symmetric int4 on the full [-8, 7], scale 2·max|w|/15.
 *    int4, uint4 and blocks need opset 21 (and IR 10): the model is converted first.
 *  - `matmulnbits`: com.microsoft MatMulNBits (onnxruntime's contrib op, which onnxruntime-web runs
 *    on WebGPU and WASM) for MatMul and Gemm with constant B: B transposed to [N, K], blocks of
 *    `blockSize` along K, codes unsigned and packed low nibble first, MatMulNBits' own rules
 *    (core/blockwise.ts `matmulnbits`: symmetric scale = signed max / -8, implicit zero point 8).
 * Nodes that cannot take the form keep float weights, and the report names each with the reason.
 */
import { quantizeBlockwise, quantizeBlockwiseColumns } from '../../core/blockwise';
import { DTYPES, type IntDType } from '../../core/dtype';
import { QuantscopeError } from '../../core/errors';
import { packInt4 } from '../../core/quantize';
import { indexGraph, pruneInitializers, readNames, uniqueNamer } from '../graph';
import { upgradeOpset } from '../passes/upgradeOpset';
import {
  bytesOf,
  cloneSharingInitializers,
  defaultOpset,
  makeNode,
  makeOpset,
  makeTensor,
  type ModelProto,
  type NodeProto,
} from '../proto';
import { weightMatrix } from '../weightMatrix';
import { asMatMulNBits, matMulNBitsNodes } from './matMulNBits';
import { transpose2d, weightView } from './weightView';
import { roundToNearest, type RoundedWeight } from '../../core/algorithms/gptq';

export interface WeightOnlyOptions {
  readonly format: 'dq' | 'matmulnbits';
  /** dq: int8, uint8, int4 or uint4; matmulnbits: int4/uint4 (4 bits) or int8/uint8 (8 bits). */
  readonly dtype: IntDType;
  readonly symmetric: boolean;
  /** null: per output channel (dq only). */
  readonly blockSize: number | null;
  /** Op types to quantize (default MatMul, Gemm, Conv, Gather; MatMulNBits takes MatMul and Gemm). */
  readonly ops?: readonly string[];
  /** Node names kept float. */
  readonly exclude?: readonly string[];
  /**
   * Weights already rounded by an algorithm (GPTQ, AdaRound: core/algorithms) by node name, on the
   * matrix and groups of onnx/weightMatrix.ts for this block size; the others are rounded to nearest.
   */
  readonly rounded?: ReadonlyMap<string, RoundedWeight>;
  /** Per-node dtype and block size (DequantizeLinear form): e.g. int8 per channel on a sensitive node. */
  readonly nodes?: Readonly<Record<string, { readonly dtype?: IntDType; readonly blockSize?: number | null }>>;
}

export interface FormReport {
  readonly form: string;
  readonly quantizedNodes: readonly { node: string; opType: string; weight: string; how: string }[];
  readonly floatNodes: readonly { node: string; opType: string; reason: string }[];
  readonly notes: readonly string[];
  readonly opset: number;
}

const WEIGHT_INPUT: Record<string, number> = { MatMul: 1, Gemm: 1, Conv: 1, Gather: 0 };

function intBytes(dtype: IntDType, values: ArrayLike<number>): Uint8Array {
  if (dtype === 'int4' || dtype === 'uint4') return packInt4(values);
  const a = dtype === 'int8' ? new Int8Array(values.length) : dtype === 'uint8' ? new Uint8Array(values.length) : null;
  if (!a)
    throw new QuantscopeError('UNSUPPORTED_DTYPE', `weight-only ${dtype} is not offered: int8, uint8, int4 or uint4`);
  for (let i = 0; i < values.length; i++) a[i] = values[i]!;
  return bytesOf(a);
}

export function weightOnly(model: ModelProto, o: WeightOnlyOptions): { model: ModelProto; report: FormReport } {
  const bits = DTYPES[o.dtype].bits;
  const perNode = Object.values(o.nodes ?? {});
  if (o.format === 'matmulnbits' && perNode.length)
    throw new QuantscopeError('UNSUPPORTED_DTYPE', 'MatMulNBits takes one setting for every node');
  if (o.format === 'matmulnbits') {
    if (bits !== 4 && bits !== 8)
      throw new QuantscopeError('UNSUPPORTED_DTYPE', `MatMulNBits takes 4 or 8 bits, not ${o.dtype}`);
    if (!o.blockSize) throw new QuantscopeError('BAD_RANGE', 'MatMulNBits needs a block size (32, 64 or 128)');
  }
  const needs21 =
    o.format === 'dq' &&
    [{ dtype: o.dtype, blockSize: o.blockSize }, ...perNode].some(
      (x) => DTYPES[x.dtype ?? o.dtype].bits === 4 || (x.blockSize !== undefined ? x.blockSize : o.blockSize) !== null,
    );
  let out = needs21 ? upgradeOpset(model, 21).model : model;
  if (out === model) out = cloneSharingInitializers(model); // never change the caller's model
  const g = out.graph!;
  const name = uniqueNamer(g);
  const index = indexGraph(g);
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const ops = new Set(
    o.ops ?? (o.format === 'matmulnbits' ? ['MatMul', 'Gemm'] : ['MatMul', 'Gemm', 'Conv', 'Gather']),
  );
  const exclude = new Set(o.exclude ?? []);
  const quantized: FormReport['quantizedNodes'][number][] = [];
  const floatNodes: FormReport['floatNodes'][number][] = [];
  const newNodes = new Map<NodeProto, NodeProto[]>(); // node → the nodes that replace it
  const dropped = new Set<string>();
  for (const node of g.node) {
    if (!ops.has(node.opType)) continue;
    if (exclude.has(node.name)) {
      floatNodes.push({ node: node.name, opType: node.opType, reason: 'kept float by choice' });
      continue;
    }
    const wi = WEIGHT_INPUT[node.opType]!;
    const wName = node.input[wi]!;
    const w = inits.get(wName);
    if (!w) {
      floatNodes.push({
        node: node.name,
        opType: node.opType,
        reason: `its weight "${wName}" is not a constant initializer`,
      });
      continue;
    }
    if (w.dataType !== 1) {
      floatNodes.push({ node: node.name, opType: node.opType, reason: `its weight "${wName}" is not float32` });
      continue;
    }
    const view = weightView(node, w);
    if (typeof view === 'string') {
      floatNodes.push({ node: node.name, opType: node.opType, reason: view });
      continue;
    }
    const shared = (index.consumers.get(wName) ?? []).length > 1;
    // a node with its own dtype or block size (o.nodes) is rounded to nearest: the algorithm used the form's grid
    const rounded = o.nodes?.[node.name] ? undefined : o.rounded?.get(node.name);
    if (o.format === 'matmulnbits') {
      if (node.opType !== 'MatMul' && node.opType !== 'Gemm') continue;
      const b = rounded
        ? asMatMulNBits(rounded, o.blockSize!, o.dtype)
        : quantizeBlockwise(view.matrix, view.rows, view.cols, o.blockSize!, {
            dtype: o.dtype,
            symmetric: o.symmetric,
            convention: 'matmulnbits',
          });
      newNodes.set(node, matMulNBitsNodes(node, b, bits, o.symmetric, g.initializer, name));
      if (!shared) dropped.add(wName);
      quantized.push({
        node: node.name,
        opType: node.opType,
        weight: wName,
        how: `MatMulNBits ${bits}-bit, block ${o.blockSize}, ${o.symmetric ? 'symmetric' : 'asymmetric'}`,
      });
      continue;
    }
    // DequantizeLinear form
    const own = o.nodes?.[node.name];
    const dtype = own?.dtype ?? o.dtype;
    const symmetric = own?.dtype ? !own.dtype.startsWith('u') : o.symmetric;
    const wantBlock = own?.blockSize !== undefined ? own.blockSize : o.blockSize;
    const on = { ...o, dtype, symmetric, blockSize: wantBlock };
    if (rounded || (node.opType === 'Conv' && on.blockSize !== null)) {
      // an algorithm's rounding, or Conv blocks along the input channels (DequantizeLinear-21 axis 1)
      const wm = weightMatrix(node, w, on.blockSize);
      if (typeof wm === 'string') {
        floatNodes.push({ node: node.name, opType: node.opType, reason: wm });
        continue;
      }
      const t = wm.toTensors(rounded ?? roundToNearest(wm.matrix, wm.rows, wm.cols, { ...on, ...wm.grouping }));
      const qName = name(`${wName}_quantized`);
      g.initializer.push(makeTensor(qName, DTYPES[on.dtype].onnx, w.dims.map(Number), intBytes(on.dtype, t.q)));
      const sName = name(`${wName}_scale`);
      g.initializer.push(makeTensor(sName, 1, t.scaleDims, bytesOf(t.scales)));
      const inputs = [qName, sName];
      if (!on.symmetric || DTYPES[on.dtype].min === 0) {
        const zName = name(`${wName}_zero_point`);
        g.initializer.push(makeTensor(zName, DTYPES[on.dtype].onnx, t.scaleDims, intBytes(on.dtype, t.zeroPoints)));
        inputs.push(zName);
      }
      const attrs: Record<string, number> = { axis: t.axis };
      if (t.blockSize !== null) attrs.block_size = t.blockSize;
      const dqOut = name(`${wName}_dequantized`);
      node.input[wi] = dqOut;
      newNodes.set(node, [
        makeNode('DequantizeLinear', inputs, [dqOut], name(`${wName}_DequantizeLinear`), attrs),
        node,
      ]);
      if (!shared) dropped.add(wName);
      quantized.push({
        node: node.name,
        opType: node.opType,
        weight: wName,
        how: `${on.dtype} ${t.blockSize ? `blocks of ${t.blockSize}` : 'per channel'}, ${on.symmetric ? 'symmetric' : 'asymmetric'}${rounded ? ', rounded by an algorithm' : ''}`,
      });
      continue;
    }
    const blockSize = wantBlock !== null && node.opType !== 'Conv' ? wantBlock : null;
    const size = blockSize ?? Math.max(16, 2 ** Math.ceil(Math.log2(view.cols)));
    const b = view.storedKN
      ? quantizeBlockwiseColumns(view.storedKN, view.cols, view.rows, size, { dtype: dtype, symmetric: symmetric })
      : quantizeBlockwise(view.matrix, view.rows, view.cols, size, {
          dtype: dtype,
          symmetric: symmetric,
          convention: 'qdq',
        });
    const codes = b.layout === 'columns' ? b.q : view.toOriginal(b.q, (n) => new Int32Array(n));
    const dims = w.dims.map(Number);
    const qName = name(`${wName}_quantized`);
    g.initializer.push(makeTensor(qName, DTYPES[dtype].onnx, dims, intBytes(dtype, codes)));
    // scales: per channel [rows]; per block, shaped as the weight with the block axis divided
    let scaleDims: number[];
    let scales: Float32Array = b.scales;
    let zps: Int32Array = b.zeroPoints;
    const attrs: Record<string, number> = { axis: blockSize ? view.blockAxis : view.channelAxis };
    if (blockSize) {
      attrs.block_size = blockSize;
      if (view.blockAxis === 0) {
        // MatMul / Gemm without transB: weight [K, N], blocks along K → scales [K/B, N]
        scaleDims = [b.blocksPerRow, view.rows];
        scales = transpose2d(b.scales, view.rows, b.blocksPerRow, (n) => new Float32Array(n));
        zps = transpose2d(b.zeroPoints, view.rows, b.blocksPerRow, (n) => new Int32Array(n));
      } else scaleDims = [view.rows, b.blocksPerRow];
    } else scaleDims = [view.rows];
    const sName = name(`${wName}_scale`);
    g.initializer.push(makeTensor(sName, 1, scaleDims, bytesOf(scales)));
    const inputs = [qName, sName];
    if (!symmetric || DTYPES[dtype].min === 0) {
      const zName = name(`${wName}_zero_point`);
      g.initializer.push(makeTensor(zName, DTYPES[dtype].onnx, scaleDims, intBytes(dtype, zps)));
      inputs.push(zName);
    }
    const dqOut = name(`${wName}_dequantized`);
    const dq = makeNode('DequantizeLinear', inputs, [dqOut], name(`${wName}_DequantizeLinear`), attrs);
    node.input[wi] = dqOut;
    newNodes.set(node, [dq, node]);
    if (!shared) dropped.add(wName); // a weight another node also reads stays, for that node
    quantized.push({
      node: node.name,
      opType: node.opType,
      weight: wName,
      how: `${dtype} ${blockSize ? `blocks of ${blockSize}` : 'per channel'}, ${symmetric ? 'symmetric' : 'asymmetric'}`,
    });
  }
  g.node = g.node.flatMap((n) => newNodes.get(n) ?? [n]);
  const stillRead = readNames(g);
  g.initializer = g.initializer.filter((t) => !dropped.has(t.name) || stillRead.has(t.name));
  pruneInitializers(g); // e.g. a Conv bias replaced by its reshaped copy
  if (o.format === 'matmulnbits' && quantized.length && !out.opsetImport.some((x) => x.domain === 'com.microsoft'))
    out.opsetImport.push(makeOpset('com.microsoft', 1));
  const notes: string[] = [];
  if (quantized.length === 0)
    notes.push(`nothing to quantize: no ${[...ops].join(', ')} node with a constant float32 weight in the main graph`);
  if (
    o.format === 'dq' &&
    o.blockSize !== null &&
    quantized.some((q) => q.opType === 'Conv' && q.how.includes('per channel'))
  )
    notes.push(
      `Conv weights with fewer than ${o.blockSize} input channels a group (depthwise) keep per-channel scales`,
    );
  if (needs21) notes.push(`opset raised to 21 (IR 10) for ${bits === 4 ? 'int4 weights' : 'block-wise scales'}`);
  return {
    model: out,
    report: {
      form: `weight-only ${o.format === 'matmulnbits' ? 'MatMulNBits' : 'DequantizeLinear'}`,
      quantizedNodes: quantized,
      floatNodes,
      notes,
      opset: defaultOpset(out),
    },
  };
}
