/**
 * Step 2 of the weight-rounding job (weightRounding.ts): the rounding targets' input tensors are added as
 * outputs of the calibration model; each sample is run once and each input folded into the second
 * moments Σ x xᵀ of its rows (im2col patches for Conv, one set a Conv group), then dropped: memory is
 * cols² float64 a layer, never the activations.
 */
import {
  accumulateRows,
  createMoments,
  im2colRowCount,
  im2colRows,
  type ConvGeometry,
  type InputMoments,
} from '../core/algorithms';
import { QuantscopeError } from '../core/errors';
import { encodeModel, withExtraOutputs, type ModelProto, type NodeProto } from '../onnx';
import { attrInt, attrInts, attrString } from '../onnx/proto';
import type { CalibrationSource } from './calibrate';
import { toOrtFeeds, type OrtModule, type Tensor } from './ort';
import { floatOutputArrays, openOutputArrayPool } from './outputArrayPool';
import type { RoundingProgress, RoundingTarget } from './roundingTargets';
import { runOnSample, sampleAt } from './sampleRun';

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

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

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
  opts: {
    signal?: AbortSignal;
    onProgress?: (p: RoundingProgress) => void;
    /** false: every output a new array (by default each folded sample's arrays serve the next run's outputs). */
    recycleOutputs?: boolean;
  } = {},
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
  // each folded sample's arrays are lent to the next run's outputs where the runtime asks (the page's
  // onnxruntime-web: outputArrayPool.ts)
  const pool = opts.recycleOutputs === false ? null : openOutputArrayPool();
  try {
    for (let i = 0; i < source.count; i++) {
      if (opts.signal?.aborted) throw new QuantscopeError('CANCELLED', 'weight rounding was cancelled');
      const feeds = await source.feeds(i);
      const out = await runOnSample(() => session.run(toOrtFeeds(ort, feeds), inputs), feeds, sampleAt(source, i));
      const t0 = now();
      for (let k = 0; k < targets.length; k++) {
        const tensor = out[targets[k]!.input] as Tensor;
        foldInput(targets[k]!, moments[k]!, tensor);
      }
      foldMs += now() - t0;
      for (const name of inputs) bytes += (out[name] as Tensor).data.length * 4;
      pool?.give(floatOutputArrays(out));
      opts.onProgress?.({ phase: 'moments', done: i + 1, total: source.count });
    }
  } finally {
    pool?.close();
    await (session as { release?: () => Promise<void> }).release?.();
  }
  return { moments, momentsMBps: foldMs > 0 ? bytes / 1e6 / (foldMs / 1000) : 0, momentsSeconds: foldMs / 1000 };
}
