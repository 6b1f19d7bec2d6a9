/**
 * Empirical bias correction after the weights are quantized (see modelAlgorithms.ts): each chosen
 * layer's mean input measured on the float model's calibration runs, the exported file's dequantized
 * weights read back through onnxruntime, and (Ŵ − W)·E[x] subtracted from the bias.
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { biasCorrection } from '../core/algorithms/biasCorrection';
import { im2colRowCount, im2colRows } from '../core/algorithms/im2col';
import { weightConfigFor, type QuantConfig } from '../core/config';
import { QuantscopeError } from '../core/errors';
import { encodeModel, type ModelProto, type NodeProto } from '../onnx';
import { indexGraph } from '../onnx/graph';
import { correctBiases } from '../onnx/passes/correctBiases';
import { attrInt, dimsOf, makeValueInfo } from '../onnx/proto';
import { DT, readFloat32 } from '../onnx/tensor';
import { eachSample, type RunOptions } from './algorithmSamples';
import type { CalibrationSource } from './calibrate';
import type { OrtModule, Tensor } from './ort';
import { convGeometry } from './inputMoments';

export interface BiasCorrectedLayer {
  readonly node: string;
  readonly opType: string;
  /** max over output channels of |(Ŵ − W)·E[x]|: the mean output shift removed. */
  readonly maxShift: number;
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
