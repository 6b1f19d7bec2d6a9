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
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { biasCorrection } from '../core/algorithms/biasCorrection';
import { im2colRowCount, im2colRows } from '../core/algorithms/im2col';
import { smoothingScales } from '../core/algorithms/smoothquant';
import { weightConfigFor, type QuantConfig } from '../core/config';
import { QuantscopeError } from '../core/errors';
import { encodeModel, withExtraOutputs, type ModelProto, type NodeProto } from '../onnx';
import { indexGraph } from '../onnx/graph';
import { correctBiases } from '../onnx/passes/correctBiases';
import { equalizeModel, type EqualizationReport } from '../onnx/passes/equalize';
import { applySmoothing, smoothableGroups, type SmoothedReport } from '../onnx/passes/smoothQuant';
import { attrInt, dimsOf, makeValueInfo } from '../onnx/proto';
import { DT, readFloat32 } from '../onnx/tensor';
import type { CalibrationSource } from './calibrate';
import { toOrtFeeds, type OrtModule, type Tensor } from './ort';
import { convGeometry } from './weightRounding';

export const SMOOTHQUANT_DEFAULT_ALPHA = 0.5;
/**
 * Inputs smoothed: those with outlier channels, max_j max|X_j| at least this many times the median
 * channel's. Smoothing an even activation buys nothing, and where no producer can take 1/s the inserted
 * Mul is one more tensor to quantize (measured on a first version of the test's block: 30.3 dB of output
 * SQNR unsmoothed, 29.2 with its LayerNorm output smoothed, 27.6 with its even Relu output smoothed too).
 */
export const SMOOTHQUANT_MIN_OUTLIER_RATIO = 4;

export interface BiasCorrectedLayer {
  readonly node: string;
  readonly opType: string;
  /** max over output channels of |(Ŵ − W)·E[x]|: the mean output shift removed. */
  readonly maxShift: number;
}

export interface ModelAlgorithmsReport {
  readonly equalization?: EqualizationReport;
  readonly smoothquant?: readonly SmoothedReport[];
  readonly biasCorrection?: readonly BiasCorrectedLayer[];
  /** Layers bias correction was asked for but left alone, with the reason. */
  readonly biasSkipped?: readonly { node: string; reason: string }[];
}

export interface AlgorithmProgress {
  readonly phase: 'smoothquant' | 'bias-correction';
  readonly done: number;
  readonly total: number;
}

interface RunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: AlgorithmProgress) => void;
}

export const wantsRewrite = (config: QuantConfig): boolean =>
  Boolean(config.algorithms?.equalize || config.algorithms?.smoothquant);

/** Runs every sample through `model` with `tensors` fetched, handing each sample's tensors to `visit`. */
async function eachSample(
  ort: OrtModule,
  model: ModelProto,
  tensors: readonly string[],
  source: CalibrationSource,
  opts: RunOptions & { phase: AlgorithmProgress['phase'] },
  visit: (get: (name: string) => Tensor) => void,
): Promise<void> {
  if (source.count === 0)
    throw new QuantscopeError(
      'NO_STATISTICS',
      `${opts.phase === 'smoothquant' ? 'SmoothQuant' : 'bias correction'} needs calibration data: give samples to run`,
    );
  const inputs = new Set(model.graph!.input.map((v) => v.name));
  const fetched = tensors.filter((t) => !inputs.has(t));
  const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(model, fetched)), {
    logSeverityLevel: 3,
  } as never);
  try {
    for (let i = 0; i < source.count; i++) {
      if (opts.signal?.aborted) throw new QuantscopeError('CANCELLED', `${opts.phase} was cancelled`);
      const feeds = toOrtFeeds(ort, await source.feeds(i));
      const out = fetched.length ? await session.run(feeds, [...fetched]) : {};
      visit((name) => (inputs.has(name) ? feeds[name]! : (out[name] as Tensor)));
      opts.onProgress?.({ phase: opts.phase, done: i + 1, total: source.count });
    }
  } finally {
    await (session as { release?: () => Promise<void> }).release?.();
  }
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
  if (config.algorithms?.equalize) {
    const e = equalizeModel(m);
    m = e.model;
    report = { ...report, equalization: e.report };
  }
  const sq = config.algorithms?.smoothquant;
  if (sq) {
    if (!source)
      throw new QuantscopeError('NO_STATISTICS', 'SmoothQuant needs calibration data to measure activations');
    const alpha = sq.alpha ?? SMOOTHQUANT_DEFAULT_ALPHA;
    smoothingScales([1], [1], alpha); // refuses a bad alpha before any run
    const groups = smoothableGroups(m).filter((g) => !g.nodes.some((n) => config.excludeNodes.includes(n)));
    const maxAbs = groups.map((g) => new Float64Array(g.channels));
    await eachSample(
      ort,
      m,
      groups.map((g) => g.input),
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
        scales: smoothingScales(act, wmax, alpha),
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

/** The layers bias correction is asked for: constant float weights, chosen per model, op type or node. */
export function biasCorrectionTargets(model: ModelProto, config: QuantConfig): NodeProto[] {
  const form = config.form ?? { kind: 'qdq' as const };
  if (form.kind !== 'qdq' && form.kind !== 'weight-only') return [];
  const index = indexGraph(model.graph!);
  const ops = form.kind === 'weight-only' ? new Set(form.ops ?? ['MatMul', 'Gemm', 'Conv']) : null;
  return model.graph!.node.filter((node) => {
    if (!['MatMul', 'Gemm', 'Conv'].includes(node.opType) || (ops && !ops.has(node.opType))) return false;
    if (config.excludeNodes.includes(node.name) || !weightConfigFor(config, node.name, node.opType).biasCorrection)
      return false;
    const w = index.initializers.get(node.input[1] ?? '');
    return Boolean(w && w.dataType === DT.FLOAT && !index.initializers.has(node.input[0] ?? ''));
  });
}

/** Each target's weight as the exported file dequantizes it (onnxruntime runs its DequantizeLinear). */
async function exportedWeights(
  ort: OrtModule,
  exported: ModelProto,
  targets: readonly NodeProto[],
): Promise<{ weights: Map<string, Float32Array>; skipped: { node: string; reason: string }[] }> {
  const g = exported.graph!;
  const index = indexGraph(g);
  const dq = new Map<string, NodeProto>();
  const skipped: { node: string; reason: string }[] = [];
  for (const t of targets) {
    const node = g.node.find((n) => n.name === t.name && n.opType === t.opType);
    const p = node ? index.producer.get(node.input[1] ?? '') : undefined;
    if (!node || !p || p.opType !== 'DequantizeLinear' || !p.input.every((i) => !i || index.initializers.has(i)))
      skipped.push({
        node: t.name,
        reason: node ? 'its weight is not quantized in the export' : 'the export replaced the node (MatMulNBits)',
      });
    else dq.set(t.name, p);
  }
  const weights = new Map<string, Float32Array>();
  if (dq.size === 0) return { weights, skipped };
  const nodes = [...new Set(dq.values())];
  const needed = new Set(nodes.flatMap((n) => n.input));
  const mini = create(ModelProtoSchema, {
    irVersion: exported.irVersion,
    opsetImport: exported.opsetImport,
    graph: create(GraphProtoSchema, {
      name: 'dequantized weights',
      node: nodes,
      initializer: g.initializer.filter((t) => needed.has(t.name)),
      output: nodes.map((n) => makeValueInfo(n.output[0]!)),
    }),
  });
  const session = await ort.InferenceSession.create(encodeModel(mini), { logSeverityLevel: 3 } as never);
  try {
    const out = await session.run(
      {},
      nodes.map((n) => n.output[0]!),
    );
    for (const [name, p] of dq) weights.set(name, (out[p.output[0]!] as Tensor).data as Float32Array);
  } finally {
    await (session as { release?: () => Promise<void> }).release?.();
  }
  return { weights, skipped };
}

const CHUNK_ROWS = 256;

/**
 * The bias corrections for `model` (the float model the export was made from): measured on the
 * calibration samples, applied to a copy of the model that the caller exports again.
 */
export async function correctBiasesFromData(
  ort: OrtModule,
  model: ModelProto,
  config: QuantConfig,
  source: CalibrationSource,
  exported: ModelProto,
  opts: RunOptions = {},
): Promise<{
  model: ModelProto;
  layers: BiasCorrectedLayer[];
  skipped: { node: string; reason: string }[];
  /** Tensors renamed by an inserted Add (new → original): static QDQ gives them the original's range. */
  renamed: Map<string, string>;
}> {
  const targets = biasCorrectionTargets(model, config);
  if (targets.length === 0) return { model, layers: [], skipped: [], renamed: new Map() };
  const { weights, skipped } = await exportedWeights(ort, exported, targets);
  const chosen = targets.filter((t) => weights.has(t.name));
  const inits = new Map(model.graph!.initializer.map((t) => [t.name, t]));
  // per target: Σ rows and the row count, one set per Conv group
  const sums = chosen.map((t) => {
    const dims = dimsOf(inits.get(t.input[1]!)!);
    const groups = t.opType === 'Conv' ? attrInt(t, 'group', 1) : 1;
    const cols = t.opType === 'Conv' ? dims.slice(1).reduce((a, b) => a * b, 1) : transBOf(t) ? dims[1]! : dims[0]!;
    return { groups, cols, sum: Array.from({ length: groups }, () => new Float64Array(cols)), rows: 0 };
  });
  await eachSample(
    ort,
    model,
    [...new Set(chosen.map((t) => t.input[0]!))],
    source,
    { ...opts, phase: 'bias-correction' },
    (get) => {
      chosen.forEach((t, k) => {
        const x = get(t.input[0]!);
        const data = x.data as Float32Array;
        const s = sums[k]!;
        if (t.opType !== 'Conv') {
          const n = data.length / s.cols;
          if (!Number.isInteger(n))
            throw new QuantscopeError('BAD_TENSOR', `node "${t.name}": input has not ${s.cols} features`);
          for (let i = 0; i < data.length; i++) s.sum[0]![i % s.cols]! += data[i]!;
          s.rows += n;
          return;
        }
        const w = inits.get(t.input[1]!)!;
        const geo = convGeometry(t, x.dims, dimsOf(w).slice(2));
        const rows = im2colRowCount(geo);
        const buf = new Float64Array(CHUNK_ROWS * s.cols);
        for (let grp = 0; grp < s.groups; grp++)
          for (let r0 = 0; r0 < rows; r0 += CHUNK_ROWS) {
            const count = Math.min(CHUNK_ROWS, rows - r0);
            im2colRows(data, geo, grp, r0, count, buf);
            const acc = s.sum[grp]!;
            for (let r = 0; r < count; r++) for (let j = 0; j < s.cols; j++) acc[j]! += buf[r * s.cols + j]!;
          }
        s.rows += rows;
      });
    },
  );
  const corrections = new Map<string, Float64Array>();
  const layers: BiasCorrectedLayer[] = [];
  chosen.forEach((t, k) => {
    const s = sums[k]!;
    const wt = inits.get(t.input[1]!)!;
    const dims = dimsOf(wt);
    const w = readFloat32(wt);
    const q = weights.get(t.name)!;
    const means = s.sum.map((v) => v.map((x) => x / Math.max(1, s.rows)));
    let c: Float64Array;
    if (t.opType === 'Conv') {
      const m = dims[0]!;
      const per = m / s.groups;
      c = new Float64Array(m);
      for (let grp = 0; grp < s.groups; grp++) {
        const at = grp * per * s.cols;
        c.set(
          biasCorrection(
            w.subarray(at, at + per * s.cols),
            q.subarray(at, at + per * s.cols),
            per,
            s.cols,
            means[grp]!,
          ),
          grp * per,
        );
      }
    } else if (transBOf(t)) c = biasCorrection(w, q, dims[0]!, dims[1]!, means[0]!);
    else
      c = biasCorrection(
        transposed(w, dims[0]!, dims[1]!),
        transposed(q, dims[0]!, dims[1]!),
        dims[1]!,
        dims[0]!,
        means[0]!,
      );
    corrections.set(t.name, c);
    layers.push({ node: t.name, opType: t.opType, maxShift: c.reduce((a, v) => Math.max(a, Math.abs(v)), 0) });
  });
  const corrected = correctBiases(model, corrections);
  return { model: corrected.model, layers, skipped, renamed: corrected.renamed };
}

/** The ranges with each renamed tensor given its original's (the shift bias correction adds is small against it). */
export function withRenamedRanges<R>(ranges: Map<string, R>, renamed: ReadonlyMap<string, string>): Map<string, R> {
  const out = new Map(ranges);
  for (const [t, original] of renamed) if (ranges.has(original)) out.set(t, ranges.get(original)!);
  return out;
}

const transBOf = (t: NodeProto) => t.opType === 'Gemm' && attrInt(t, 'transB', 0) === 1;

function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}
