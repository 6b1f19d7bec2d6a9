/**
 * TFLite export: the prepared ONNX model as a .tflite file (float32, float16 weights, or fully int8
 * from the calibrated ranges of the static QDQ export), and the report shown beside the download:
 * the ops used, the tensor arena TFLite Micro needs at least (the largest set of activations alive at
 * once), and whether each op has an int8 kernel in TFLite Micro (micro.ts, a table with its source).
 */
import { buildTflite, writeTflite, type TfliteBuild, type TfliteCalibration, type TfliteOptions } from './convert';
import { elementBytes } from './emitter';
import { MICRO_TABLE } from './micro';

export { buildTflite, permute, tflShape } from './convert';
export type { TfliteCalibration, TfliteIo, TfliteOptions, TflitePrecision } from './convert';
export { decodeTflite, encodeTflite } from './flatbuffer';
export { onnxOutput, takesShape, tfliteInput, tfliteQuantize } from './feeds';
export { tfliteInt8HeldConfig, tfliteInt8Unheld } from './unheld';
export { refusedNodes, TFLITE_ONNX_OPS, type RefusedNode } from './ops';

export interface MicroSupport {
  readonly registered: boolean;
  readonly int8: boolean;
}
export const TFLITE_MICRO: {
  readonly source: string;
  readonly note: string;
  readonly ops: Readonly<Record<string, MicroSupport>>;
} = MICRO_TABLE;

export interface TfliteReport {
  readonly precision: TfliteOptions['precision'];
  readonly bytes: number;
  /** Builtin op → how many times it is used (and its highest version), in first-use order. */
  readonly ops: readonly { op: string; count: number; version: number; micro: MicroSupport | null }[];
  readonly inputs: TfliteBuild['inputs'];
  readonly outputs: TfliteBuild['outputs'];
  /** Largest sum of activation bytes alive at one operator: a lower bound of TFLite Micro's arena. */
  readonly arenaBytes: number;
  /** The operator at which that peak happens. */
  readonly arenaPeakAt: string;
  readonly weightBytes: number;
  readonly derivedRanges: TfliteBuild['derivedRanges'];
  /** Weights whose scale was enlarged so that their int32 bias fits. */
  readonly biasesAdjusted: number;
  /** Shape computations fixed for the inputs' shapes: the file runs at those shapes only. */
  readonly shapesFixed: number;
  /** Whether every op has an int8 kernel in TFLite Micro (int8 files). */
  readonly microReady: boolean;
}

/** Liveness over the operator order: a tensor lives from its producer (or the start) to its last reader. */
export function arenaEstimate(build: TfliteBuild): { bytes: number; at: string } {
  const e = build.emitter;
  const size = (i: number) => {
    const t = e.tensors[i]!;
    return t.shape.reduce((a, b) => a * b, 1) * elementBytes(t.type);
  };
  const isActivation = (i: number) => i >= 0 && e.tensors[i]!.buffer === 0;
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  for (const i of build.graphInputs) first.set(i, 0);
  e.ops.forEach((o, k) => {
    for (const i of o.inputs) if (isActivation(i)) last.set(i, k);
    for (const i of o.outputs) if (!first.has(i)) first.set(i, k);
  });
  for (const i of build.graphOutputs) last.set(i, e.ops.length);
  let best = 0;
  let at = '';
  e.ops.forEach((o, k) => {
    let live = 0;
    for (const [i, s] of first) if (s <= k && (last.get(i) ?? s) >= k && isActivation(i)) live += size(i);
    if (live > best) {
      best = live;
      at = `${o.op} (${o.from})`;
    }
  });
  return { bytes: best, at };
}

export function tfliteReport(build: TfliteBuild, precision: TfliteOptions['precision'], bytes: number): TfliteReport {
  const counts = new Map<string, { op: string; count: number; version: number }>();
  for (const o of build.emitter.ops) {
    const c = counts.get(o.op);
    if (c) {
      c.count++;
      c.version = Math.max(c.version, o.version);
    } else counts.set(o.op, { op: o.op, count: 1, version: o.version });
  }
  const ops = [...counts.values()].map((c) => ({ ...c, micro: TFLITE_MICRO.ops[c.op] ?? null }));
  const arena = arenaEstimate(build);
  const weightBytes = build.emitter.buffers.reduce((a, b) => a + b.length, 0);
  return {
    precision,
    bytes,
    ops,
    inputs: build.inputs,
    outputs: build.outputs,
    arenaBytes: arena.bytes,
    arenaPeakAt: arena.at,
    weightBytes,
    derivedRanges: build.derivedRanges,
    biasesAdjusted: build.biasesAdjusted,
    shapesFixed: build.shapesFixed,
    microReady: precision === 'int8' && ops.every((o) => o.micro?.registered && o.micro.int8),
  };
}

/** The whole export: refuses unsupported nodes first (by name), then builds, writes and reports. */
/**
 * What fixing the shapes means for the user, said alike by the page and the command line: the file
 * runs at the inputs' shapes only (TFLite's are fixed anyway), with the shape arithmetic computed here.
 */
export function shapesFixedWords(r: Pick<TfliteReport, 'shapesFixed' | 'inputs'>): string {
  return `${r.shapesFixed} shape computation${r.shapesFixed === 1 ? '' : 's'} (Shape nodes) computed for the input shape${r.inputs.length === 1 ? '' : 's'} ${r.inputs.map((x) => `[${x.onnxShape.join(', ')}]`).join(', ')}: the file takes inputs of exactly that shape`;
}

export function exportTflite(
  model: Parameters<typeof buildTflite>[0],
  opts: TfliteOptions,
  calib?: TfliteCalibration,
  description = 'Quantscope TFLite export',
): { bytes: Uint8Array; report: TfliteReport } {
  const build = buildTflite(model, opts, calib);
  const bytes = writeTflite(build, description);
  return { bytes, report: tfliteReport(build, opts.precision, bytes.length) };
}
