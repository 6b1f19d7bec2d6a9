/**
 * Where cross-layer equalization and SmoothQuant apply, from the configuration's three levels (model,
 * op type, node), like every other weight choice (core/config.ts weightConfigFor: node, then op type,
 * then the model's `weights`, then the model-level switch in `algorithms`).
 *
 *  - Equalization acts on a pair (Conv/Gemm → Relu | PRelu | LeakyRelu | nothing → Conv/Gemm). The pair
 *    belongs to its FIRST node: the layer whose output channels are divided by S (onnx/passes/equalize.ts
 *    finds the pair by following that node's output). In a chain A → B → C, A owns A-B and B owns B-C,
 *    so every pair has exactly one owner and turning one node off leaves exactly one pair alone.
 *  - SmoothQuant acts on a MatMul/Gemm's input; each node chooses whether its weight takes the scales
 *    and with which alpha. Nodes that share an input and the same alpha are smoothed together (one s,
 *    as smooth_ln_fcs does for the fcs after one LayerNorm); runtime/modelAlgorithms.ts splits the rest.
 */
import type { QuantConfig } from '../config';
import { weightConfigFor } from '../config';

/** SmoothQuant's default alpha (Xiao et al. 2022 use 0.5 for most models; the CLI's and the page's default). */
export const SMOOTHQUANT_DEFAULT_ALPHA = 0.5;

/** Whether the pair `node` (a Conv or Gemm) starts is equalized. */
export function equalizesPair(config: QuantConfig, node: string, opType: string): boolean {
  return weightConfigFor(config, node, opType).equalize ?? config.algorithms?.equalize ?? false;
}

/** The model-level equalization choice (what a node without an override gets). */
export const equalizesByDefault = (config: QuantConfig): boolean =>
  config.weights.equalize ?? config.algorithms?.equalize ?? false;

/** This MatMul/Gemm's SmoothQuant alpha, or null when its input is not smoothed for it. */
export function smoothQuantAlpha(config: QuantConfig, node: string, opType: string): number | null {
  const wc = weightConfigFor(config, node, opType);
  const on = wc.smoothquant ?? config.algorithms?.smoothquant !== undefined;
  if (!on) return null;
  return wc.smoothquantAlpha ?? config.algorithms?.smoothquant?.alpha ?? SMOOTHQUANT_DEFAULT_ALPHA;
}

function anyOverride(config: QuantConfig, key: 'equalize' | 'smoothquant'): boolean {
  const levels = [
    config.weights,
    ...Object.values(config.opTypes ?? {}).map((o) => o.weights),
    ...Object.values(config.nodes ?? {}).map((o) => o.weights),
  ];
  return levels.some((w) => w?.[key] === true);
}

/** Whether any pair may be equalized (at any level). */
export const wantsEqualization = (config: QuantConfig): boolean =>
  Boolean(config.algorithms?.equalize) || anyOverride(config, 'equalize');

/** Whether any input may be smoothed (at any level): SmoothQuant then needs calibration data. */
export const wantsSmoothQuant = (config: QuantConfig): boolean =>
  config.algorithms?.smoothquant !== undefined || anyOverride(config, 'smoothquant');
