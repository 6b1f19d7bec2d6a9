/**
 * The quantization plan: which nodes become QDQ, which tensors need calibrated ranges, and what
 * stays float and why. Pure: reads a prepared model (opset >= 13, weights in initializers).
 *
 * Per-channel weight axes (the output-channel axis; onnx/docs/Operators.md for each op's weight layout):
 *   Conv [M, C/g, kH, kW] → 0; ConvTranspose [C, M/g, kH, kW] → 1; MatMul with a constant [K, N] → 1;
 *   Gemm B → 0 when transB = 1 ([N, K]), else 1 ([K, N]).
 * A MatMul between two activations (attention) has no weight: both inputs are activations.
 * Relu and Clip share their producer's range: the producer's output is not quantized on its own, the
 * Relu/Clip output is (onnxruntime fuses DQ → Conv → Relu → Q into one integer kernel).
 * Placement `pytorch-eager` (config.placement; the PyTorch presets) puts the pairs where eager PyTorch
 * observes: the producer's output keeps its own range, and the output of a Relu/Clip, a pooling, a
 * Resize or a shape op after it is quantized again with that range (`followers`: their quantized
 * PyTorch forms keep their input's scale and zero point, so the pair only rounds what PyTorch rounds:
 * an average back onto the grid); and a graph output a quantized node produces is quantized too (the
 * last module's observer; DeQuantStub then hands back its float value).
 */
import { isExcluded, type QuantConfig } from '../core/config';
import { indexGraph } from './graph';
import { attrInt, type ModelProto, type NodeProto } from './proto';
import { DT } from './tensor';
import { inferElemTypes } from './types';

/** Ops quantized with weights. */
export const WEIGHTED_OPS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);
/** Ops quantized on their activations only; for Resize only input 0 (the others are roi/scales/sizes). */
export const ACTIVATION_OPS = new Set([
  'Add',
  'Mul',
  'Concat',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Resize',
]);
/** Ops that share their producer's range. */
export const SHARING_OPS = new Set(['Relu', 'Clip']);
/**
 * Ops whose quantized PyTorch form keeps its input's scale and zero point (torch.nn.quantized: relu,
 * clamp/hardtanh, max_pool2d, avg_pool2d, adaptive_avg_pool2d, upsample, and the shape ops): placement
 * `pytorch-eager` gives their outputs the parameters of the tensor they come from.
 */
export const PARAM_KEEPING_OPS = new Set([
  'Relu',
  'Clip',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Resize',
  'Flatten',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Transpose',
  'Identity',
]);

export interface PlannedWeight {
  readonly inputIndex: number;
  readonly tensor: string;
  /** Per-channel axis, or null when the weight's rank has no channel axis to use. */
  readonly axis: number;
}

export interface PlannedNode {
  readonly name: string;
  readonly opType: string;
  /** Inputs quantized as activations (calibrated). */
  readonly activationInputs: readonly { inputIndex: number; tensor: string }[];
  /** Constant float inputs of activation ops, quantized per tensor with the activation dtype (as ORT does). */
  readonly constantInputs: readonly { inputIndex: number; tensor: string }[];
  readonly weight?: PlannedWeight;
  readonly bias?: { inputIndex: number; tensor: string };
}

export interface FloatNode {
  readonly name: string;
  readonly opType: string;
  readonly reason: string;
}

export interface QuantPlan {
  readonly nodes: readonly PlannedNode[];
  /** Activation tensors to quantize (and so to calibrate), in graph order. */
  readonly activations: readonly string[];
  /** producer output → the Relu/Clip output whose range it shares. */
  readonly shared: ReadonlyMap<string, string>;
  /**
   * Tensors quantized with another tensor's parameters, not calibrated themselves (pytorch-eager:
   * a Relu/Clip output → its producer's output).
   */
  readonly followers: ReadonlyMap<string, string>;
  /** Nodes of a quantizable op type that stay float, with the reason. */
  readonly floatNodes: readonly FloatNode[];
}

function weightAxis(node: NodeProto, rank: number): number {
  switch (node.opType) {
    case 'Conv':
      return 0;
    case 'ConvTranspose':
      return 1;
    case 'MatMul':
      return rank - 1;
    default: // Gemm
      return attrInt(node, 'transB', 0) === 1 ? 0 : 1;
  }
}

export function planQuantization(model: ModelProto, config: QuantConfig): QuantPlan {
  const graph = model.graph!;
  const index = indexGraph(graph);
  const types = inferElemTypes(graph);
  const isFloat = (t: string): boolean => types.get(t) === DT.FLOAT;
  const isInit = (t: string): boolean => index.initializers.has(t);
  const nodes: PlannedNode[] = [];
  const floatNodes: FloatNode[] = [];
  const activationSet = new Set<string>();
  const eager = config.placement === 'pytorch-eager';
  // A Linear exported as MatMul + Add(constant bias): eager PyTorch observes only the Add's output (the
  // product and the float bias stay inside the quantized Linear), so neither gets a pair of its own.
  const linearProducts = new Set<string>();
  if (eager)
    for (const node of graph.node) {
      if (node.opType !== 'Add' || node.input.length !== 2) continue;
      const [a, b] = node.input as [string, string];
      const [product, bias] = isInit(b) ? [a, b] : isInit(a) ? [b, a] : [null, null];
      const mm = product !== null ? index.producer.get(product) : undefined;
      if (!mm || mm.opType !== 'MatMul' || !isInit(mm.input[1]!) || !isInit(bias!)) continue;
      if ((index.consumers.get(product!) ?? []).length === 1) linearProducts.add(product!);
    }

  for (const node of graph.node) {
    const op = node.opType;
    const domainOk = node.domain === '' || node.domain === 'ai.onnx';
    if (!domainOk || !(WEIGHTED_OPS.has(op) || ACTIVATION_OPS.has(op))) continue;
    if (isExcluded(config, node.name, op)) {
      floatNodes.push({ name: node.name, opType: op, reason: 'excluded by the configuration' });
      continue;
    }
    const dataInputs = op === 'Resize' ? [0] : WEIGHTED_OPS.has(op) ? [0, 1] : node.input.map((_, i) => i);
    const nonFloat = dataInputs.map((i) => node.input[i]!).find((t) => t && !isFloat(t));
    if (nonFloat !== undefined) {
      floatNodes.push({ name: node.name, opType: op, reason: `input "${nonFloat}" is not float32` });
      continue;
    }
    const activationInputs: { inputIndex: number; tensor: string }[] = [];
    const constantInputs: { inputIndex: number; tensor: string }[] = [];
    let weight: PlannedWeight | undefined;
    let bias: { inputIndex: number; tensor: string } | undefined;

    if (WEIGHTED_OPS.has(op)) {
      const x = node.input[0]!;
      const w = node.input[1]!;
      if (isInit(x)) {
        floatNodes.push({ name: node.name, opType: op, reason: 'its first input is a constant' });
        continue;
      }
      activationInputs.push({ inputIndex: 0, tensor: x });
      const wt = index.initializers.get(w);
      if (wt) {
        if (op === 'MatMul' && wt.dims.length !== 2) {
          floatNodes.push({
            name: node.name,
            opType: op,
            reason: `MatMul weight "${w}" has rank ${wt.dims.length}, not 2`,
          });
          continue;
        }
        weight = { inputIndex: 1, tensor: w, axis: weightAxis(node, wt.dims.length) };
        const b = node.input[2];
        const bt = b ? index.initializers.get(b) : undefined;
        if (b && bt && isFloat(b) && bt.dims.length === 1 && op !== 'MatMul') bias = { inputIndex: 2, tensor: b };
      } else {
        activationInputs.push({ inputIndex: 1, tensor: w });
      }
    } else {
      const linearBias = op === 'Add' && node.input.some((t) => linearProducts.has(t));
      for (const i of dataInputs) {
        const t = node.input[i];
        if (!t || (linearBias && (linearProducts.has(t) || isInit(t)))) continue;
        if (isInit(t)) constantInputs.push({ inputIndex: i, tensor: t });
        else activationInputs.push({ inputIndex: i, tensor: t });
      }
    }
    for (const a of activationInputs) activationSet.add(a.tensor);
    const out = node.output[0];
    if (out && isFloat(out) && (eager || !index.graphOutputs.has(out)) && !linearProducts.has(out))
      activationSet.add(out);
    nodes.push({
      name: node.name,
      opType: op,
      activationInputs,
      constantInputs,
      ...(weight ? { weight } : {}),
      ...(bias ? { bias } : {}),
    });
  }

  // Relu/Clip directly after a quantized tensor: quantize the activation's output instead.
  const shared = new Map<string, string>();
  const followers = new Map<string, string>();
  if (eager) {
    // An op whose quantized PyTorch form keeps its input's scale and zero point (eager PyTorch
    // observes none of them): its output takes the parameters of the observed tensor it comes from.
    for (const node of graph.node) {
      const x = node.input[0];
      const y = node.output[0];
      if (!x || !y || !PARAM_KEEPING_OPS.has(node.opType) || !isFloat(y)) continue;
      if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
      const root = followers.get(x) ?? (activationSet.has(x) ? x : undefined);
      if (root === undefined || isExcluded(config, node.name, node.opType)) continue;
      if (node.opType === 'Clip' && node.input.slice(1).some((m) => m && !isInit(m))) continue;
      followers.set(y, root);
      activationSet.delete(y); // a consumer's input, but its parameters are root's
    }
  } else {
    for (const t of [...activationSet]) {
      const consumers = index.consumers.get(t) ?? [];
      const only = consumers.length === 1 ? consumers[0]! : undefined;
      if (!only || !SHARING_OPS.has(only.opType) || index.graphOutputs.has(t) || !index.producer.has(t)) continue;
      const y = only.output[0]!;
      if (index.graphOutputs.has(y) || isExcluded(config, only.name, only.opType)) continue;
      if (only.opType === 'Clip' && only.input.slice(1).some((m) => m && !isInit(m))) continue;
      activationSet.delete(t);
      activationSet.add(y);
      shared.set(t, y);
    }
  }

  // Graph order: inputs first, then node outputs as produced.
  const order: string[] = [];
  for (const v of graph.input) if (activationSet.has(v.name)) order.push(v.name);
  for (const n of graph.node) for (const o of n.output) if (activationSet.has(o)) order.push(o);
  return { nodes, activations: order, shared, followers, floatNodes };
}

/**
 * The tensors calibration covers: the plan's activations, and the model's float inputs and outputs
 * (the QDQ export leaves those float; a fully int8 file, TFLite's, needs their ranges too).
 */
export function calibrationTensors(model: ModelProto, plan: QuantPlan): string[] {
  const graph = model.graph!;
  const types = inferElemTypes(graph);
  const inits = new Set(graph.initializer.map((t) => t.name));
  const set = new Set(plan.activations);
  const edges = [...graph.input.map((v) => v.name).filter((n) => !inits.has(n)), ...graph.output.map((v) => v.name)];
  return [...plan.activations, ...edges.filter((t) => !set.has(t) && types.get(t) === DT.FLOAT && (set.add(t), true))];
}
