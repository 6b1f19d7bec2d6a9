/**
 * The weight-rounding job (GPTQ, AdaRound): one engine for the page's worker and the command line.
 *
 * 1. The nodes whose weights an algorithm rounds (weight-only forms; MatMul, Gemm, Conv with a constant
 *    float32 weight; `algorithm` resolved per model, op type and node from the configuration).
 * 2. Their input tensors are added as outputs of the calibration model; each sample is run once and
 *    each input folded into the second moments Σ x xᵀ of its rows (im2col patches for Conv, one set a
 *    Conv group), then dropped: memory is cols² float64 a layer, never the activations.
 * 3. Each weight is rounded from its moments (GPTQ: H = 2/n Σ x xᵀ; AdaRound: 1/n Σ x xᵀ), layer by
 *    layer, with progress and cancel between layers (and inside AdaRound).
 * Inputs come from the float model (every layer sees float inputs, not its quantized predecessors'
 * outputs as the GPTQ paper's sequential pass does): one calibration pass serves every layer.
 */
import {
  accumulateRows,
  adaround,
  createMoments,
  dequantizeRounded,
  gptq,
  gptqHessian,
  im2colRowCount,
  im2colRows,
  momentMatrix,
  reconstructionError,
  roundToNearest,
  type ConvGeometry,
  type InputMoments,
  type RoundedWeight,
} from '../core/algorithms';
import { weightConfigFor, type QuantConfig, type WeightAlgorithm } from '../core/config';
import { QuantscopeError } from '../core/errors';
import { encodeModel, withExtraOutputs, type ModelProto, type NodeProto } from '../onnx';
import { attrInt, attrInts, attrString } from '../onnx/proto';
import { weightMatrix, type WeightMatrix } from '../onnx/weightMatrix';
import type { CalibrationSource } from './calibrate';
import { toOrtFeeds, type OrtModule, type Tensor } from './ort';

/**
 * AdaRound's defaults here, measured (a [48, 144] layer, int4 blocks of 16, correlated inputs; hard-rounded
 * loss against round-to-nearest's, and seconds on this 2-core machine):
 *   lr 1e-3 (AIMET's): 100 it. 0.89 (1.1 s), 300 it. 0.74, 1000 it. 0.48 (7.9 s), 3000 it. 0.37 (21 s)
 *   lr 1e-2:           100 it. 0.65 (0.8 s), 300 it. 0.43 (1.7 s), 1000 it. 0.34 (8.9 s), 3000 it. 0.32
 * AIMET's 10,000 iterations at lr 1e-3 cost minutes a layer in a browser; lr 1e-2 for 300 iterations
 * reaches what lr 1e-3 reaches in about 1000, at a third of the time. The reference test uses AIMET's lr.
 */
export const ADAROUND_DEFAULT_ITERATIONS = 300;
export const ADAROUND_DEFAULT_LEARNING_RATE = 1e-2;

export interface RoundingTarget {
  readonly node: NodeProto;
  readonly algorithm: Exclude<WeightAlgorithm, 'rtn'>;
  readonly matrix: WeightMatrix;
  readonly input: string;
  /** The Conv kernel's spatial dims (the weight's dims after [M, C/g]). */
  readonly kernel: readonly number[];
}

export interface RoundedLayer {
  readonly node: string;
  readonly opType: string;
  readonly algorithm: Exclude<WeightAlgorithm, 'rtn'>;
  /** Σ ||W x − Ŵ x||² / n over the calibration rows: round-to-nearest's and the algorithm's. */
  readonly lossRtn: number;
  readonly loss: number;
  readonly seconds: number;
}

export interface RoundingResult {
  readonly rounded: Map<string, RoundedWeight>;
  readonly layers: RoundedLayer[];
  /** Activation megabytes (float32) folded into moments per second. */
  readonly momentsMBps: number;
  readonly momentsSeconds: number;
}

export interface RoundingProgress {
  readonly phase: 'moments' | 'rounding';
  readonly done: number;
  readonly total: number;
  readonly node?: string;
}

/** The weight-only form's grid and which nodes an algorithm rounds; null when none does. */
export function roundingTargets(model: ModelProto, config: QuantConfig): RoundingTarget[] {
  const form = config.form;
  if (!form || form.kind !== 'weight-only') return [];
  const g = model.graph!;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const ops = new Set(form.ops ?? ['MatMul', 'Gemm', 'Conv']);
  const out: RoundingTarget[] = [];
  for (const node of g.node) {
    if (!ops.has(node.opType) || !['MatMul', 'Gemm', 'Conv'].includes(node.opType)) continue;
    if (config.excludeNodes.includes(node.name)) continue;
    const algorithm = weightConfigFor(config, node.name, node.opType).algorithm ?? 'rtn';
    if (algorithm === 'rtn') continue;
    const w = inits.get(node.input[1] ?? '');
    if (!w || w.dataType !== 1 || inits.has(node.input[0] ?? '')) continue;
    if (form.format === 'matmulnbits' && node.opType === 'Conv') continue;
    const matrix = weightMatrix(node, w, form.blockSize);
    if (typeof matrix === 'string') continue;
    out.push({ node, algorithm, matrix, input: node.input[0]!, kernel: w.dims.slice(2).map(Number) });
  }
  return out;
}

export function convGeometry(node: NodeProto, dims: readonly number[], kernel: readonly number[]): ConvGeometry {
  const rank = dims.length;
  const ks = attrInts(node, 'kernel_shape') ?? kernel;
  const strides = attrInts(node, 'strides') ?? [];
  const dil = attrInts(node, 'dilations') ?? [];
  const pads = attrInts(node, 'pads') ?? [];
  if (attrString(node, 'auto_pad', 'NOTSET') !== 'NOTSET')
    throw new QuantscopeError(
      'UNSUPPORTED_OP',
      `node "${node.name}": Conv with auto_pad is not handled by GPTQ/AdaRound`,
    );
  if (rank === 4)
    return {
      n: dims[0]!,
      c: dims[1]!,
      h: dims[2]!,
      w: dims[3]!,
      group: attrInt(node, 'group', 1),
      kh: ks[0]!,
      kw: ks[1]!,
      strides: [strides[0] ?? 1, strides[1] ?? 1],
      dilations: [dil[0] ?? 1, dil[1] ?? 1],
      pads: [pads[0] ?? 0, pads[1] ?? 0, pads[2] ?? 0, pads[3] ?? 0],
    };
  return {
    n: dims[0]!,
    c: dims[1]!,
    h: 1,
    w: dims[2]!,
    group: attrInt(node, 'group', 1),
    kh: 1,
    kw: ks[0]!,
    strides: [1, strides[0] ?? 1],
    dilations: [1, dil[0] ?? 1],
    pads: [0, pads[0] ?? 0, 0, pads[1] ?? 0],
  };
}

const CHUNK_ROWS = 256;

/** Folds one fetched input into a target's moments (one set per Conv group). */
function foldInput(t: RoundingTarget, moments: InputMoments[], tensor: Tensor): void {
  const data = tensor.data as Float32Array;
  const dims = tensor.dims;
  if (t.node.opType !== 'Conv') {
    const k = dims[dims.length - 1]!;
    if (k !== t.matrix.cols)
      throw new QuantscopeError(
        'BAD_TENSOR',
        `node "${t.node.name}": input has ${k} features, the weight ${t.matrix.cols}`,
      );
    accumulateRows(moments[0]!, data, data.length / k);
    return;
  }
  const geo = convGeometry(t.node, dims, t.kernel);
  const cols = (geo.c / geo.group) * geo.kh * geo.kw;
  const rows = im2colRowCount(geo);
  const buf = new Float64Array(CHUNK_ROWS * cols);
  for (let grp = 0; grp < geo.group; grp++) {
    for (let r0 = 0; r0 < rows; r0 += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, rows - r0);
      im2colRows(data, geo, grp, r0, count, buf);
      accumulateRows(moments[grp]!, buf, count);
    }
  }
}

/** A moments matrix in the weight matrix's column order. */
function permuted(h: Float64Array, cols: number, perm: Int32Array | undefined): Float64Array {
  if (!perm) return h;
  const out = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = h[perm[i]! * cols + perm[j]!]!;
  return out;
}

function concatRows(parts: RoundedWeight[], cols: number): RoundedWeight {
  if (parts.length === 1) return parts[0]!;
  const cat = <T extends Int32Array | Float32Array>(pick: (r: RoundedWeight) => T): T => {
    const total = parts.reduce((n, p) => n + pick(p).length, 0);
    const out = new (pick(parts[0]!).constructor as new (n: number) => T)(total);
    let at = 0;
    for (const p of parts) {
      out.set(pick(p), at);
      at += pick(p).length;
    }
    return out;
  };
  return {
    rows: parts.reduce((n, p) => n + p.rows, 0),
    cols,
    grouping: parts[0]!.grouping,
    q: cat((p) => p.q),
    scales: cat((p) => p.scales),
    zeroPoints: cat((p) => p.zeroPoints),
  };
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export async function roundWeights(
  ort: OrtModule,
  model: ModelProto,
  config: QuantConfig,
  source: CalibrationSource,
  opts: { signal?: AbortSignal; onProgress?: (p: RoundingProgress) => void } = {},
): Promise<RoundingResult> {
  const targets = roundingTargets(model, config);
  if (targets.length === 0) return { rounded: new Map(), layers: [], momentsMBps: 0, momentsSeconds: 0 };
  const collected = await collectInputMoments(ort, model, targets, source, opts);
  const result = await roundFromMoments(targets, collected.moments, config, opts);
  return { ...result, momentsMBps: collected.momentsMBps, momentsSeconds: collected.momentsSeconds };
}

export interface CollectedMoments {
  /** Per target, one set of moments a Conv group. */
  readonly moments: InputMoments[][];
  readonly momentsMBps: number;
  readonly momentsSeconds: number;
}

/**
 * Step 2: every target's input moments from one session that fetches all their inputs, one run a
 * sample, each input folded and dropped as it arrives.
 */
export async function collectInputMoments(
  ort: OrtModule,
  model: ModelProto,
  targets: readonly RoundingTarget[],
  source: CalibrationSource,
  opts: { signal?: AbortSignal; onProgress?: (p: RoundingProgress) => void } = {},
): Promise<CollectedMoments> {
  if (source.count === 0)
    throw new QuantscopeError('NO_STATISTICS', 'GPTQ and AdaRound need calibration data: give samples to run');
  const inputs = [...new Set(targets.map((t) => t.input))];
  const moments = targets.map((t) => {
    return Array.from({ length: t.matrix.convGroups }, () => createMoments(t.matrix.cols));
  });
  const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(model, inputs)), {
    logSeverityLevel: 3,
  } as never);
  let bytes = 0;
  let foldMs = 0;
  try {
    for (let i = 0; i < source.count; i++) {
      if (opts.signal?.aborted) throw new QuantscopeError('CANCELLED', 'weight rounding was cancelled');
      const out = await session.run(toOrtFeeds(ort, await source.feeds(i)), inputs);
      const t0 = now();
      for (let k = 0; k < targets.length; k++) {
        const tensor = out[targets[k]!.input] as Tensor;
        foldInput(targets[k]!, moments[k]!, tensor);
      }
      foldMs += now() - t0;
      for (const name of inputs) bytes += (out[name] as Tensor).data.length * 4;
      opts.onProgress?.({ phase: 'moments', done: i + 1, total: source.count });
    }
  } finally {
    await (session as { release?: () => Promise<void> }).release?.();
  }
  return { moments, momentsMBps: foldMs > 0 ? bytes / 1e6 / (foldMs / 1000) : 0, momentsSeconds: foldMs / 1000 };
}

/** Step 3: each target's weight rounded from its moments (targets and moments in the same order). */
export async function roundFromMoments(
  targets: readonly RoundingTarget[],
  moments: readonly (readonly InputMoments[])[],
  config: QuantConfig,
  opts: { signal?: AbortSignal; onProgress?: (p: RoundingProgress) => void } = {},
): Promise<Omit<RoundingResult, 'momentsMBps' | 'momentsSeconds'>> {
  const result = { rounded: new Map<string, RoundedWeight>(), layers: [] as RoundedLayer[] };
  const form = config.form as Extract<NonNullable<QuantConfig['form']>, { kind: 'weight-only' }>;
  const gopts = config.algorithms?.gptq ?? {};
  const iterations = config.algorithms?.adaround?.iterations ?? ADAROUND_DEFAULT_ITERATIONS;
  for (let k = 0; k < targets.length; k++) {
    const t = targets[k]!;
    if (opts.signal?.aborted) throw new QuantscopeError('CANCELLED', 'weight rounding was cancelled');
    opts.onProgress?.({ phase: 'rounding', done: k, total: targets.length, node: t.node.name });
    const t0 = now();
    const { rows, cols, grouping, matrix } = t.matrix;
    const G = t.matrix.convGroups;
    const rowsPer = rows / G;
    const grid = { dtype: form.dtype, symmetric: form.symmetric, ...grouping };
    const parts: RoundedWeight[] = [];
    let lossRtn = 0;
    let loss = 0;
    for (let grp = 0; grp < G; grp++) {
      const m = moments[k]![grp]!;
      const w = matrix.subarray(grp * rowsPer * cols, (grp + 1) * rowsPer * cols);
      const mean = permuted(momentMatrix(m, m.rows > 0 ? 1 / m.rows : 0), cols, t.matrix.im2colColumn);
      let r: RoundedWeight;
      if (t.algorithm === 'gptq') {
        const h = permuted(gptqHessian(m), cols, t.matrix.im2colColumn);
        r = gptq(w, rowsPer, cols, h, { ...grid, ...gopts });
      } else {
        r = adaround(w, rowsPer, cols, mean, {
          ...grid,
          iterations,
          learningRate: config.algorithms?.adaround?.learningRate ?? ADAROUND_DEFAULT_LEARNING_RATE,
          onProgress: () => !opts.signal?.aborted,
        });
      }
      lossRtn += reconstructionError(w, dequantizeRounded(roundToNearest(w, rowsPer, cols, grid)), rowsPer, cols, mean);
      loss += reconstructionError(w, dequantizeRounded(r), rowsPer, cols, mean);
      parts.push(r);
    }
    result.rounded.set(t.node.name, concatRows(parts, cols));
    result.layers.push({
      node: t.node.name,
      opType: t.node.opType,
      algorithm: t.algorithm,
      lossRtn,
      loss,
      seconds: (now() - t0) / 1000,
    });
    // yield to the event loop so that a cancel message can arrive between layers
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  opts.onProgress?.({ phase: 'rounding', done: targets.length, total: targets.length });
  return result;
}
