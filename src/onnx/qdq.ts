/**
 * Export: static QDQ (onnx/docs/Operators.md, QuantizeLinear-13 / DequantizeLinear-13).
 *   activation T  →  QuantizeLinear(T, s, zp) → DequantizeLinear → every consumer of T
 *   weight W      →  W stored quantized → DequantizeLinear(W_q, s[C], zp[C], axis) → the op
 *   bias B        →  B stored int32, scale input_scale * weight_scale → DequantizeLinear with no
 *                    zero-point input (WebGPU's DequantizeLinear mishandles an int32 zero point)
 * Every QuantizeLinear gets a typed zero point, which fixes its output type. A tensor whose range is
 * missing or non-finite stays float, and the report says so by name.
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { activationConfigFor, weightConfigFor, type QuantConfig } from '../core/config';
import { DTYPES } from '../core/dtype';
import { QuantscopeError } from '../core/errors';
import { quantParams } from '../core/conventions';
import type { QParams } from '../core/qparams';
import {
  adjustWeightScaleForInt32Bias,
  quantizeBias,
  quantizeWeightPerChannel,
  quantizeWeightPerTensor,
  requantizeWeight,
  type QuantizedWeight,
} from '../core/weights';
import { indexGraph, readNames, uniqueNamer } from './graph';
import { branchReadMovedTensors, rewireBranchReads } from './qdqBranchReads';
import { upgradeOpset } from './passes/upgradeOpset';
import { weightView } from './forms/weightView';
import { weightMatrix } from './weightMatrix';
import type { QuantPlan } from './plan';
import {
  bytesOf,
  defaultOpset,
  dimsOf,
  makeNode,
  makeTensor,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from './proto';
import { readFloat32 } from './tensor';
import { initializerBytes, intBytes } from './intTensorBytes';
import { needsOpset21 } from './opsetForConfig';
import { storedActivation } from './activationStorage';
import { convBlockWeightDq, matmulBlockWeightDq, type QdqSink } from './qdqBlockWeights';

export interface TensorRange {
  readonly rmin: number;
  readonly rmax: number;
}

export interface ExportReport {
  readonly quantizedNodes: number;
  readonly quantizedActivations: number;
  readonly quantizedWeights: number;
  /** Activation tensors left float, with the reason. */
  readonly floatTensors: readonly { tensor: string; reason: string }[];
  /** Initializer bytes stored as 8-bit (or narrower) integers, and all initializer bytes. */
  readonly intWeightBytes: number;
  readonly totalWeightBytes: number;
}

export function buildQdqModel(
  model: ModelProto,
  plan: QuantPlan,
  ranges: ReadonlyMap<string, TensorRange | null>,
  config: QuantConfig,
): { model: ModelProto; report: ExportReport } {
  if (defaultOpset(model) < 13 && config.weights.perChannel) {
    throw new QuantscopeError('UNSUPPORTED_OPSET', 'per-channel QDQ needs opset 13: prepare the model first');
  }
  // QuantizeLinear/DequantizeLinear take 16- and 4-bit types from opset 21 (IR 10) on.
  const opset21 = needsOpset21(config);
  const upgraded = opset21 ? upgradeOpset(model, 21).model : model;
  const out = upgraded === model ? clone(ModelProtoSchema, model) : upgraded;
  const graph = out.graph!;
  const index = indexGraph(graph);
  const name = uniqueNamer(graph);
  const actOf = (t: string) => activationConfigFor(config, t, index.producer.get(t)?.opType);
  const floatTensors: { tensor: string; reason: string }[] = [];
  const newInits: TensorProto[] = [];
  const weightDqNodes: NodeProto[] = [];
  const sink: QdqSink = { name, newInits, weightDqNodes };
  const qdqAfter = new Map<string, NodeProto[]>(); // tensor → its Q and DQ nodes
  const rewire = new Map<string, string>(); // activation tensor → its DequantizeLinear output
  const params = new Map<string, QParams>();
  const paramNames = new Map<string, [string, string]>(); // tensor → its scale and zero-point initializers
  const renamedOutputs = new Map<string, string>(); // graph output → the float tensor its producer now writes
  // Q → DQ after tensor t. A graph output keeps its name on the DQ's output (its producer writes a
  // new float name), so that the model's interface does not change.
  const addPair = (t: string, s: string, zp: string): void => {
    const isOutput = index.graphOutputs.has(t) && index.producer.has(t);
    const source = isOutput ? name(`${t}_float`) : t;
    const q = name(`${t}_QuantizeLinear_Output`);
    const dq = isOutput ? t : name(`${t}_DequantizeLinear_Output`);
    qdqAfter.set(t, [
      makeNode('QuantizeLinear', [source, s, zp], [q], name(`${t}_QuantizeLinear`)),
      makeNode('DequantizeLinear', [q, s, zp], [dq], name(`${t}_DequantizeLinear`)),
    ]);
    if (isOutput) renamedOutputs.set(t, source);
    else rewire.set(t, dq);
  };

  // 1. Activations.
  for (const t of plan.activations) {
    if (config.tensors?.[t]?.exclude) {
      floatTensors.push({ tensor: t, reason: 'kept float by choice' });
      continue;
    }
    const r = ranges.get(t);
    if (!r) {
      floatTensors.push({
        tensor: t,
        reason: r === null ? 'NaN or Infinity seen in calibration' : 'no calibrated range',
      });
      continue;
    }
    const act = actOf(t);
    const p = quantParams(r.rmin, r.rmax, act.dtype, act);
    if (!Number.isFinite(p.scale)) {
      floatTensors.push({ tensor: t, reason: `range [${r.rmin}, ${r.rmax}] overflows float32` });
      continue;
    }
    params.set(t, p);
    const s = name(`${t}_scale`);
    const zp = name(`${t}_zero_point`);
    newInits.push(makeTensor(s, 1, [], bytesOf(Float32Array.of(p.scale))));
    // int8 in an opset-21 file is stored as uint8, zero point + 128: the same map (activationStorage.ts)
    const stored = storedActivation(act.dtype, opset21);
    newInits.push(makeTensor(zp, DTYPES[stored.dtype].onnx, [], intBytes(stored.dtype, [p.zeroPoint + stored.shift])));
    paramNames.set(t, [s, zp]);
    addPair(t, s, zp);
  }
  // Tensors that take another's parameters (pytorch-eager: a Relu/Clip output, its producer's).
  for (const [y, t] of plan.followers) {
    const names = paramNames.get(t);
    if (!names || config.tensors?.[y]?.exclude) continue;
    addPair(y, ...names);
    params.set(y, params.get(t)!); // a consumer's int32 bias takes this scale
  }

  // Data-movement outputs that If/Loop branches read take their input's pair (qdqBranchReads.ts).
  const branchRewire = new Map<string, string>();
  for (const { tensor: y, from } of branchReadMovedTensors(
    graph,
    (t) => paramNames.has(t),
    (t) => qdqAfter.has(t),
  )) {
    addPair(y, ...paramNames.get(from)!);
    params.set(y, params.get(from)!);
    const dq = rewire.get(y);
    if (dq) branchRewire.set(y, dq);
  }

  // 2. Weights, biases and constant inputs, per planned node.
  let quantizedWeights = 0;
  const nodeByName = new Map(graph.node.map((n) => [n.name, n]));
  const constDq = new Map<string, string>();
  const inputReplacements = new Map<NodeProto, Map<number, string>>();
  const replace = (node: NodeProto, i: number, t: string): void => {
    const m = inputReplacements.get(node) ?? new Map<number, string>();
    m.set(i, t);
    inputReplacements.set(node, m);
  };
  for (const pn of plan.nodes) {
    const node = nodeByName.get(pn.name);
    if (!node) continue;
    const blockWc = weightConfigFor(config, node.name, node.opType);
    const view =
      pn.weight && blockWc.blockSize && (node.opType === 'MatMul' || node.opType === 'Gemm')
        ? weightView(node, index.initializers.get(pn.weight.tensor)!)
        : null;
    // Conv blocks along the input channels (DequantizeLinear-21 axis 1, onnx/weightMatrix.ts's layout, as
    // the weight-only form writes them); a Conv with fewer input channels a group than a block (depthwise)
    // keeps per-channel scales below. The bias stays float, as for MatMul blocks.
    const convBlocks =
      pn.weight && blockWc.blockSize && node.opType === 'Conv'
        ? weightMatrix(node, index.initializers.get(pn.weight.tensor)!, blockWc.blockSize)
        : null;
    if (pn.weight && convBlocks && typeof convBlocks !== 'string' && convBlocks.grouping.groupSize !== null) {
      const wt = index.initializers.get(pn.weight.tensor)!;
      replace(node, pn.weight.inputIndex, convBlockWeightDq(sink, wt, pn.weight.tensor, convBlocks, blockWc));
      quantizedWeights++;
    } else if (pn.weight && view && typeof view !== 'string') {
      // Per-block weight scales (DequantizeLinear-21 block_size, along the reduction axis); bias stays float.
      const wt = index.initializers.get(pn.weight.tensor)!;
      replace(node, pn.weight.inputIndex, matmulBlockWeightDq(sink, wt, pn.weight.tensor, view, blockWc));
      quantizedWeights++;
    } else if (pn.weight) {
      const wt = index.initializers.get(pn.weight.tensor)!;
      const data = readFloat32(wt);
      const shape = dimsOf(wt);
      const wc = weightConfigFor(config, node.name, node.opType);
      const opts = { dtype: wc.dtype, symmetric: wc.symmetric, convention: wc.convention };
      let qw: QuantizedWeight = wc.perChannel
        ? quantizeWeightPerChannel(data, shape, pn.weight.axis, opts)
        : quantizeWeightPerTensor(data, opts);
      const inputParams = params.get(node.input[0]!);
      let biasQ: ReturnType<typeof quantizeBias> | undefined;
      if (pn.bias && inputParams) {
        const bias = readFloat32(index.initializers.get(pn.bias.tensor)!);
        if (wc.adjustScaleForInt32Bias) {
          const adjusted = adjustWeightScaleForInt32Bias(inputParams.scale, qw.scales, bias);
          if (adjusted) qw = requantizeWeight(data, shape, qw, adjusted);
        }
        biasQ = quantizeBias(bias, inputParams.scale, qw.scales);
      }
      const base = `${pn.weight.tensor}${biasQ ? `_${node.name}` : ''}`;
      const wq = name(`${base}_quantized`);
      const ws = name(`${base}_scale`);
      const wzp = name(`${base}_zero_point`);
      const wdq = name(`${base}_DequantizeLinear_Output`);
      const perAxis = qw.axis !== null;
      const pshape = perAxis ? [qw.scales.length] : [];
      newInits.push(makeTensor(wq, DTYPES[qw.dtype].onnx, shape, intBytes(qw.dtype, qw.data)));
      newInits.push(makeTensor(ws, 1, pshape, bytesOf(qw.scales)));
      newInits.push(makeTensor(wzp, DTYPES[qw.dtype].onnx, pshape, intBytes(qw.dtype, qw.zeroPoints)));
      weightDqNodes.push(
        makeNode(
          'DequantizeLinear',
          [wq, ws, wzp],
          [wdq],
          name(`${base}_DequantizeLinear`),
          perAxis ? { axis: qw.axis! } : {},
        ),
      );
      replace(node, pn.weight.inputIndex, wdq);
      quantizedWeights++;
      if (biasQ && pn.bias) {
        const bq = name(`${pn.bias.tensor}_quantized`);
        const bs = name(`${pn.bias.tensor}_scale`);
        const bdq = name(`${pn.bias.tensor}_DequantizeLinear_Output`);
        newInits.push(makeTensor(bq, DTYPES.int32.onnx, [biasQ.data.length], bytesOf(biasQ.data)));
        newInits.push(makeTensor(bs, 1, perAxis ? [biasQ.scales.length] : [], bytesOf(biasQ.scales)));
        weightDqNodes.push(
          makeNode(
            'DequantizeLinear',
            [bq, bs],
            [bdq],
            name(`${pn.bias.tensor}_DequantizeLinear`),
            perAxis ? { axis: 0 } : {},
          ),
        );
        replace(node, pn.bias.inputIndex, bdq);
      }
    }
    for (const c of pn.constantInputs) {
      let dq = constDq.get(c.tensor);
      if (!dq) {
        const ct = index.initializers.get(c.tensor)!;
        const act = config.activations;
        const actInfo = DTYPES[act.dtype];
        const qc = quantizeWeightPerTensor(readFloat32(ct), { dtype: act.dtype, symmetric: act.symmetric });
        if (!Number.isFinite(qc.scales[0]!)) continue;
        const cq = name(`${c.tensor}_quantized`);
        const cs = name(`${c.tensor}_scale`);
        const czp = name(`${c.tensor}_zero_point`);
        dq = name(`${c.tensor}_DequantizeLinear_Output`);
        newInits.push(makeTensor(cq, actInfo.onnx, dimsOf(ct), intBytes(act.dtype, qc.data)));
        newInits.push(makeTensor(cs, 1, [], bytesOf(qc.scales)));
        newInits.push(makeTensor(czp, actInfo.onnx, [], intBytes(act.dtype, qc.zeroPoints)));
        weightDqNodes.push(makeNode('DequantizeLinear', [cq, cs, czp], [dq], name(`${c.tensor}_DequantizeLinear`)));
        constDq.set(c.tensor, dq);
      }
      replace(node, c.inputIndex, dq);
    }
  }

  // 3. Rewire consumers and lay the nodes out in topological order.
  const nodes: NodeProto[] = [...weightDqNodes];
  for (const v of graph.input) nodes.push(...(qdqAfter.get(v.name) ?? []));
  for (const node of graph.node) {
    const reps = inputReplacements.get(node);
    node.input = node.input.map((t, i) => reps?.get(i) ?? rewire.get(t) ?? t);
    const outputs = node.output;
    node.output = outputs.map((o) => renamedOutputs.get(o) ?? o);
    nodes.push(node);
    for (const o of outputs) nodes.push(...(qdqAfter.get(o) ?? []));
  }
  graph.node = nodes;
  rewireBranchReads(graph, branchRewire);

  // 4. Drop float initializers nothing reads any more.
  const used = readNames(graph); // subgraphs' outer-scope reads count as reads
  graph.initializer = [...graph.initializer.filter((t) => used.has(t.name)), ...newInits];
  const { intBytes: intWeightBytes, totalBytes: totalWeightBytes } = initializerBytes(graph.initializer);

  return {
    model: out,
    report: {
      quantizedNodes: plan.nodes.length,
      quantizedActivations: rewire.size + renamedOutputs.size,
      quantizedWeights,
      floatTensors,
      intWeightBytes,
      totalWeightBytes,
    },
  };
}
