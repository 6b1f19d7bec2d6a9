/**
 * Which tensors a calibration run fetches from the runtime, and which it recomputes from them.
 *
 * Fetching a tensor costs more than computing it: onnxruntime keeps every graph output in its own
 * buffer (none is reused) and copies each out of its heap. On PP-OCRv4 det (236 calibrated tensors,
 * WASM, one thread) a run that fetches them all takes 1.6-2.2x plain inference; most of them are the
 * elementwise tails of a convolution (hard-swish's Add, Clip, Div, Mul; Relu; HardSigmoid), and a run
 * fetching only the 71 others takes 1.2-1.4x. So a tensor an elementwise op (core/elementwise.ts)
 * makes from fetched or recomputed tensors and small float constants is recomputed in the fold, in
 * float32 exactly as onnxruntime's kernels compute it, and only the rest is fetched.
 *
 * A tensor that is no longer a graph output may be fused by onnxruntime's graph optimizer into its
 * consumer, which would change the bits of what that consumer makes (a Div before a MatMul folded
 * into the MatMul's scale, say; 1/x then Mul turned into one Div). So a tensor is recomputed only when
 * every node reading it is one of CONSUMERS, ops no onnxruntime fusion (1.2x, CPU and WASM) merges a
 * preceding elementwise op into, and a Div only with a tensor numerator. On PP-OCRv4 det the
 * statistics are then the same bits as a run that fetches every tensor (tested).
 *
 * Copies are recomputed too (core/copySteps.ts): a Concat of fetched or recomputed tensors, and a
 * nearest Resize whose output index maps to its input index by integer arithmetic (asymmetric
 * coordinates and nearest_mode floor, or another pair that maps the same: FLOOR_MAP_MODES; Upsample-7/9
 * and Resize-10 nearest; constant integer upsampling scales): on det its 6 Resize outputs and
 * the Concat of four of them are 21.6 MiB of the fetched 113.2 MiB a sample. Every other Resize (another
 * mode or coordinate convention, sizes over a dynamic shape, a fractional or downsampling scale, opset
 * 18's axes or keep_aspect_ratio_policy, antialias) stays fetched.
 */
import { sizeOf, type ElementwiseOp, type Float32Tensor, type TensorStep } from '../core/elementwise';
import {
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  defaultOpset,
  dimsOf,
  getAttr,
  valueInfoShape,
  type ModelProto,
  type NodeProto,
} from './proto';
import { DT, readFloat32, readInts } from './tensor';
import { inferShapes, type InferredShape } from './shapeInference';
import { isExternal } from './externalData';
import { outerScopeReads } from './graph';

/** One recomputed tensor: its op (or copy) over fetched or recomputed tensors (by name) and constants. */
export type DerivedStep = TensorStep;

export interface CalibrationFetchPlan {
  /** The tensors the run fetches (graph outputs of the calibration model). */
  readonly fetched: readonly string[];
  /** The others, in graph order: each step's tensor inputs are fetched or made by an earlier step. */
  readonly steps: readonly DerivedStep[];
}

/** Constants larger than this stay out of the plan (a step's constant travels with each fold's plan). */
const MAX_CONSTANT_ELEMENTS = 1 << 16;

const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div']);

/** The readers a recomputed tensor may have (see above); any other reader keeps it fetched. */
const CONSUMERS = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Relu',
  'Clip',
  'HardSigmoid',
  'Conv',
  'ConvTranspose',
  'Concat',
  'Resize',
  'Upsample',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Reshape',
  'Transpose',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Identity',
]);

export function planCalibrationFetches(model: ModelProto, tensors: readonly string[]): CalibrationFetchPlan {
  const g = model.graph!;
  const want = new Set(tensors);
  const opset = defaultOpset(model);
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const constant = (name: string): Float32Tensor | null => {
    const t = inits.get(name);
    if (!t || t.dataType !== DT.FLOAT || isExternal(t)) return null;
    const dims = dimsOf(t);
    if (sizeOf(dims) > MAX_CONSTANT_ELEMENTS) return null;
    return { data: readFloat32(t), dims };
  };
  const int64s = (name: string): number[] | null => {
    const t = inits.get(name);
    if (!t || t.dataType !== DT.INT64 || isExternal(t)) return null;
    try {
      return readInts(t);
    } catch {
      return null; // a value past 2^53: no size a tensor has
    }
  };
  // the shapes a static-shape model fixes (a Resize given sizes needs its input's), worked out on first use
  let shapes: Map<string, InferredShape> | undefined;
  const staticDims = (name: string): readonly number[] | undefined => {
    if (!shapes) {
      const inputs: Record<string, number[]> = {};
      for (const v of g.input) {
        const dims = valueInfoShape(v);
        if (dims?.every((d) => typeof d === 'number' && d > 0)) inputs[v.name] = dims as number[];
      }
      shapes = g.input.every((v) => inits.has(v.name) || inputs[v.name]) ? inferShapes(g, inputs) : new Map();
    }
    return shapes.get(name)?.dims;
  };
  const scalar = (name: string | undefined): number | undefined | null => {
    if (!name) return undefined; // an omitted optional input
    const c = constant(name);
    return c && c.data.length === 1 ? c.data[0]! : null;
  };
  // tensors the fold will hold: fetched, or recomputed by a step
  const available = new Set<string>();
  const fetched: string[] = [];
  const steps = new Map<string, DerivedStep>();
  const fetch = (t: string) => {
    if (available.has(t)) return;
    available.add(t);
    fetched.push(t);
  };
  // tensors read by a node outside CONSUMERS, or from a subgraph (an If's branch), stay fetched
  const pinned = outerScopeReads(g);
  for (const n of g.node) if (!CONSUMERS.has(n.opType) || n.domain) for (const i of n.input) pinned.add(i);
  for (const v of g.input) if (want.has(v.name) && !inits.has(v.name)) fetch(v.name);
  for (const n of g.node) {
    const step = pinned.has(n.output[0] ?? '')
      ? null
      : stepFor(n, opset, available, constant, scalar, staticDims, int64s);
    if (step) {
      steps.set(step.output, step);
      available.add(step.output);
      continue;
    }
    for (const o of n.output) if (want.has(o)) fetch(o);
  }
  // a wanted tensor no node of this graph makes (an initializer, say) is fetched as before
  for (const t of tensors) if (!available.has(t)) fetch(t);
  // only the steps a wanted tensor needs, in graph order
  const needed = new Set<string>();
  const visit = (t: string) => {
    const s = steps.get(t);
    if (!s || needed.has(t)) return;
    needed.add(t);
    for (const i of s.inputs) if (typeof i === 'string') visit(i);
  };
  for (const t of tensors) visit(t);
  return { fetched, steps: [...steps.values()].filter((s) => needed.has(s.output)) };
}

function stepFor(
  n: NodeProto,
  opset: number,
  available: ReadonlySet<string>,
  constant: (name: string) => Float32Tensor | null,
  scalar: (name: string | undefined) => number | undefined | null,
  staticDims: (name: string) => readonly number[] | undefined,
  int64s: (name: string) => number[] | null,
): DerivedStep | null {
  if ((n.domain !== '' && n.domain !== 'ai.onnx') || n.output.length !== 1 || !n.output[0]) return null;
  const output = n.output[0];
  const x = n.input[0];
  if (!x || !available.has(x)) {
    // a binary op may take its tensor second (Mul(constant, x))
    if (!BINARY.has(n.opType) || n.input.length !== 2 || !available.has(n.input[1]!)) return null;
  }
  if (BINARY.has(n.opType)) {
    if (n.input.length !== 2) return null;
    if (n.opType === 'Div' && !available.has(n.input[0]!)) return null; // c / x: see CONSUMERS
    const inputs: (string | Float32Tensor)[] = [];
    for (const i of n.input) {
      if (available.has(i)) inputs.push(i);
      else {
        const c = constant(i);
        if (!c) return null;
        inputs.push(c);
      }
    }
    return { output, op: n.opType as ElementwiseOp, inputs, attrs: {} };
  }
  if (n.opType === 'Concat') {
    if (!n.input.every((i) => i && available.has(i))) return null;
    // Concat-1 defaults the axis to 1; from Concat-4 on it is required
    return { output, op: 'Concat', inputs: [...n.input], attrs: { axis: attrInt(n, 'axis', 1) } };
  }
  if (n.opType === 'Resize' || n.opType === 'Upsample') {
    const scales = integerUpsampling(n, opset, constant, staticDims, int64s);
    return scales ? { output, op: 'Resize', inputs: [x!], attrs: { scales } } : null;
  }
  if (n.opType === 'Relu') return { output, op: 'Relu', inputs: [x!], attrs: {} };
  if (n.opType === 'HardSigmoid')
    return {
      output,
      op: 'HardSigmoid',
      inputs: [x!],
      attrs: { alpha: attrFloat(n, 'alpha', 0.2), beta: attrFloat(n, 'beta', 0.5) },
    };
  if (n.opType === 'Clip') {
    if (opset < 11) {
      // Clip-6: the bounds are attributes (float32 lowest and max when absent)
      return {
        output,
        op: 'Clip',
        inputs: [x!],
        attrs: { min: attrFloat(n, 'min', -3.4028234663852886e38), max: attrFloat(n, 'max', 3.4028234663852886e38) },
      };
    }
    const min = scalar(n.input[1]);
    const max = scalar(n.input[2]);
    if (min === null || max === null) return null; // a bound that is not a float constant
    return { output, op: 'Clip', inputs: [x!], attrs: { min, max } };
  }
  return null;
}

/**
 * The (coordinate_transformation_mode, nearest_mode) pairs whose input index is floor(out / s) at an
 * integer scale s (out = q·s + r, 0 <= r < s), as onnxruntime computes the coordinate in float32
 * (onnxruntime/core/providers/cpu/tensor/upsamplebase.h, GetOriginalCoordinateFromResizedCoordinate
 * and GetNearestPixelFromOriginal; each pair tested against onnxruntime in
 * test/integration/copySteps.node.test.ts):
 *  - asymmetric, floor: x = out / s = q + r/s, below q + 1 by 1/s;
 *  - tf_half_pixel_for_nn, floor: x = (out + 0.5) / s = q + (r + 0.5)/s, within [q + 0.5/s, q + 1 - 0.5/s];
 *  - half_pixel (and pytorch_half_pixel, the same for an output longer than 1; 0 otherwise), either
 *    rounding mode: x = (out + 0.5) / s - 0.5 = q + (r + 0.5)/s - 0.5, within 0.5 - 0.5/s of q and
 *    never on a half, so it rounds to q (at q = 0 onnxruntime's clamp to 0 agrees).
 * float32's error (under q·2^-23) stays far inside those margins for any axis under 2^20 long. Other
 * pairs pick another index for some r (asymmetric with rounding: out = 2 at s = 3 reads 1).
 */
const FLOOR_MAP_MODES: Readonly<Record<string, readonly string[]>> = {
  asymmetric: ['floor'],
  tf_half_pixel_for_nn: ['floor'],
  half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
  pytorch_half_pixel: ['round_prefer_floor', 'round_prefer_ceil'],
};

/**
 * A Resize's per-axis scales when its output is its input with each value repeated by an integer
 * scale on each axis (core/copySteps.ts), else null. ONNX Resize-11 on: inputs (X, roi, scales,
 * sizes), roi read only by tf_crop_and_resize; Resize-10 and Upsample-7/9 have no coordinate mode.
 * Resize-18's `axes` and `keep_aspect_ratio_policy` (which apply to sizes) and `antialias` are refused
 * when set to anything but their defaults. With `sizes` instead of scales, the scales are sizes over
 * the input's shape, only where that shape is static (`staticDims`) and divides the sizes.
 */
function integerUpsampling(
  n: NodeProto,
  opset: number,
  constant: (name: string) => Float32Tensor | null,
  staticDims: (name: string) => readonly number[] | undefined,
  int64s: (name: string) => number[] | null,
): number[] | null {
  if (attrString(n, 'mode', 'nearest') !== 'nearest') return null;
  if (n.opType === 'Upsample' || opset < 11) {
    // Upsample-7 (scales an attribute), Upsample-9 and Resize-10 (X, scales): onnxruntime takes the
    // coordinate as asymmetric and, upsampling, truncates it (upsamplebase.h: ResizeNearestMode::SIMPLE,
    // static_cast<int64_t>(x_original) when not down-sampling): floor(out / s) as above.
    if (n.opType === 'Upsample' && opset >= 10) return null; // deprecated: onnxruntime refuses the model
    const s =
      n.opType === 'Upsample' && opset < 9
        ? (getAttr(n, 'scales')?.floats ?? [])
        : [...((n.input[1] ? constant(n.input[1]) : null)?.data ?? [])];
    return s.length && s.every((v) => Number.isInteger(v) && v >= 1) ? [...s] : null;
  }
  const coordinates = attrString(n, 'coordinate_transformation_mode', 'half_pixel');
  const rounding = attrString(n, 'nearest_mode', 'round_prefer_floor');
  if (!FLOOR_MAP_MODES[coordinates]?.includes(rounding)) return null;
  if (attrInts(n, 'axes') !== undefined || attrInt(n, 'antialias', 0) !== 0) return null;
  if (attrString(n, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') return null;
  let scales: number[];
  if (n.input[3]) {
    const sizes = int64s(n.input[3]);
    const dims = staticDims(n.input[0]!);
    if (!sizes || !dims || sizes.length !== dims.length || dims.some((d) => d < 1)) return null;
    scales = sizes.map((v, i) => v / dims[i]!);
  } else {
    const s = n.input[2] ? constant(n.input[2]) : null;
    if (!s || s.data.length === 0) return null;
    scales = [...s.data];
  }
  return scales.every((v) => Number.isInteger(v) && v >= 1) ? scales : null;
}
