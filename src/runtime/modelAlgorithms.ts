/**
 * The float-model algorithms around quantization, one engine for the page's worker and the command line:
 *
 *  - before calibration (rewriteBeforeCalibration): cross-layer equalization (data-free, onnx/passes/
 *    equalize.ts), then SmoothQuant: each MatMul/Gemm input's per-channel max|x| over the calibration
 *    samples (every axis but the last reduced, as smoothquant/calibration.py get_act_scales does), the
 *    scales from core/algorithms/smoothquant.ts, folded by onnx/passes/smoothQuant.ts. Calibration,
 *    GPTQ/AdaRound and the export then run on the rewritten model.
 *  - after the weights are quantized (biasCorrectionsFromData): empirical bias correction. Each chosen
 *    layer's mean input row E[x] (im2col patches for Conv, padding zeros included) is measured on the
 *    float model's calibration runs, Ŵ is read back from the exported file itself (its weight's
 *    DequantizeLinear evaluated by onnxruntime, so it is exactly what will run, whichever form, grid or
 *    rounding made it), and (Ŵ − W)·E[x] is subtracted from the bias (onnx/passes/correctBiases.ts).
 *    The caller exports again from the corrected model. Inputs come from the float model, as the
 *    rounding job's do (one pass serves every layer); samples run independently (no recurrent chain).
 */
import {
  equalizesByDefault,
  equalizesPair,
  SMOOTHQUANT_DEFAULT_ALPHA,
  smoothQuantAlpha,
  wantsEqualization,
  wantsSmoothQuant,
} from '../core/algorithms/choices';
import { smoothingScales } from '../core/algorithms/smoothquant';
import { isExcluded, type QuantConfig } from '../core/config';
import { QuantscopeError } from '../core/errors';
import type { ModelProto } from '../onnx';
import { equalizeModel, type EqualizationReport } from '../onnx/passes/equalize';
import { applySmoothing, smoothableGroups, type SmoothedReport, type SmoothGroup } from '../onnx/passes/smoothQuant';
import { attrInt, dimsOf } from '../onnx/proto';
import { readFloat32 } from '../onnx/tensor';
import { eachSample, type RunOptions } from './algorithmSamples';
import type { BiasCorrectedLayer } from './biasCorrectionFromData';
import type { CalibrationSource } from './calibrate';
import type { OrtModule } from './ort';

export type { AlgorithmProgress } from './algorithmSamples';
export {
  biasCorrectionTargets,
  correctBiasesFromData,
  withRenamedRanges,
  type BiasCorrectedLayer,
} from './biasCorrectionFromData';

export { SMOOTHQUANT_DEFAULT_ALPHA };
/**
 * Inputs smoothed: those with outlier channels, max_j max|X_j| at least this many times the median
 * channel's. Smoothing an even activation buys nothing, and where no producer can take 1/s the inserted
 * Mul is one more tensor to quantize (measured on a first version of the test's block: 30.3 dB of output
 * SQNR unsmoothed, 29.2 with its LayerNorm output smoothed, 27.6 with its even Relu output smoothed too).
 */
export const SMOOTHQUANT_MIN_OUTLIER_RATIO = 4;

export interface ModelAlgorithmsReport {
  readonly equalization?: EqualizationReport;
  readonly smoothquant?: readonly SmoothedReport[];
  readonly biasCorrection?: readonly BiasCorrectedLayer[];
  /** Layers bias correction was asked for but left alone, with the reason. */
  readonly biasSkipped?: readonly { node: string; reason: string }[];
}

export const wantsRewrite = (config: QuantConfig): boolean => wantsEqualization(config) || wantsSmoothQuant(config);

/**
 * The SmoothQuant groups the configuration chooses, each with its alpha: a candidate input's nodes that
 * are smoothed (not excluded, SmoothQuant on for them), split by alpha (each alpha its own s).
 */
export function chosenSmoothGroups(
  groups: readonly SmoothGroup[],
  config: QuantConfig,
  opTypeOf: (node: string) => string,
): { group: SmoothGroup; alpha: number }[] {
  return groups.flatMap((g) => {
    const byAlpha = new Map<number, string[]>();
    for (const n of g.nodes) {
      if (isExcluded(config, n, opTypeOf(n))) continue;
      const alpha = smoothQuantAlpha(config, n, opTypeOf(n));
      if (alpha === null) continue;
      if (!(alpha >= 0 && alpha <= 1))
        throw new QuantscopeError('BAD_RANGE', `node "${n}": SmoothQuant alpha ${alpha} must be in [0, 1]`);
      byAlpha.set(alpha, [...(byAlpha.get(alpha) ?? []), n]);
    }
    return [...byAlpha].map(([alpha, nodes]) => ({ group: { ...g, nodes }, alpha }));
  });
}

/** Equalization and SmoothQuant as the configuration asks, on the prepared model (before calibration). */
export async function rewriteBeforeCalibration(
  ort: OrtModule,
  model: ModelProto,
  config: QuantConfig,
  source: CalibrationSource | null,
  opts: RunOptions = {},
): Promise<{ model: ModelProto; report: ModelAlgorithmsReport }> {
  let m = model;
  let report: ModelAlgorithmsReport = {};
  if (wantsEqualization(config)) {
    const byDefault = equalizesByDefault(config);
    const e = equalizeModel(m, (first) =>
      equalizesPair(config, first.name, first.opType)
        ? true
        : byDefault && `equalization turned off for "${first.name}" (its node or ${first.opType} choice)`,
    );
    m = e.model;
    report = { ...report, equalization: e.report };
  }
  if (wantsSmoothQuant(config)) {
    if (!source)
      throw new QuantscopeError('NO_STATISTICS', 'SmoothQuant needs calibration data to measure activations');
    const opTypes = new Map(m.graph!.node.map((n) => [n.name, n.opType]));
    const chosen = chosenSmoothGroups(smoothableGroups(m), config, (n) => opTypes.get(n) ?? '');
    // refuses a bad alpha before any run
    const alphas = [config.algorithms?.smoothquant?.alpha ?? SMOOTHQUANT_DEFAULT_ALPHA, ...chosen.map((c) => c.alpha)];
    for (const alpha of alphas) smoothingScales([1], [1], alpha);
    const groups = chosen.map((c) => c.group);
    const maxAbs = groups.map((g) => new Float64Array(g.channels));
    await eachSample(
      ort,
      m,
      [...new Set(groups.map((g) => g.input))],
      source,
      { ...opts, phase: 'smoothquant' },
      (get) => {
        groups.forEach((g, k) => {
          const data = get(g.input).data as Float32Array;
          const acc = maxAbs[k]!;
          if (data.length % g.channels !== 0)
            throw new QuantscopeError('BAD_TENSOR', `tensor "${g.input}": its last axis is not ${g.channels} wide`);
          for (let i = 0; i < data.length; i++) {
            const a = Math.abs(data[i]!);
            const j = i % g.channels;
            if (a > acc[j]!) acc[j] = a;
          }
        });
      },
    );
    const g = m.graph!;
    const inits = new Map(g.initializer.map((t) => [t.name, t]));
    const applied = groups.map((grp, k) => {
      // max|W_j| over every smoothed node's input row j (smooth_ln_fcs concatenates the fcs' weights)
      const wmax = new Float64Array(grp.channels);
      for (const n of grp.nodes) {
        const node = g.node.find((x) => x.name === n)!;
        const wt = inits.get(node.input[1]!)!;
        const w = readFloat32(wt);
        const transB = node.opType === 'Gemm' && attrInt(node, 'transB', 0) === 1;
        const [d0, d1] = dimsOf(wt) as [number, number];
        for (let r = 0; r < d0; r++)
          for (let c = 0; c < d1; c++) {
            const j = transB ? c : r;
            wmax[j] = Math.max(wmax[j]!, Math.abs(w[r * d1 + c]!));
          }
      }
      const act = maxAbs[k]!;
      const sorted = Float64Array.from(act).sort();
      const median = sorted[sorted.length >> 1]!;
      return {
        group: grp,
        scales: smoothingScales(act, wmax, chosen[k]!.alpha),
        outlierRatio: median > 0 ? sorted[sorted.length - 1]! / median : 0,
      };
    });
    const s = applySmoothing(
      m,
      applied.filter((a) => a.outlierRatio >= SMOOTHQUANT_MIN_OUTLIER_RATIO),
    );
    m = s.model;
    report = { ...report, smoothquant: s.report };
  }
  return { model: m, report };
}
