/**
 * The guard rail on every export: the float model and its export run on the same held-out samples and
 * the export is judged against a target on one output. Pure: running sums folded sample by sample
 * (never the outputs themselves), then a verdict.
 *
 * Which output: the model's first output that is not recurrent state (an output fed back into an
 * input, such as Silero VAD's stateN, never counts). Which metric: where that output has a class axis
 * (its last axis, with at least 2 entries, on an [N, C] or [N, T, C] output) top-1 agreement along it,
 * else output SQNR pooled over every sample (10 log10(Σx² / Σ(x - y)²), the same quantity
 * onnxruntime's qdq_loss_debug reports per tensor, summed over samples rather than averaged in dB).
 */

/** The default target: top-1 agreement of at least 99%, or output SQNR of at least 20 dB. */
export interface GuardTarget {
  readonly top1: number;
  readonly sqnrDb: number;
}

export const DEFAULT_GUARD_TARGET: GuardTarget = { top1: 0.99, sqnrDb: 20 };

/** Dimensions as declared (numbers, symbolic names, or unknown). */
export type DeclaredDims = readonly (number | string | null)[] | null;

/** An [N, C] or [N, T, C] output whose last axis has at least 2 entries: class scores along it. */
export function hasClassAxis(dims: readonly number[]): boolean {
  return (dims.length === 2 || dims.length === 3) && dims[dims.length - 1]! >= 2;
}

/** Suffixes a recurrent output adds to the input it feeds (stateN/state, h_out/h, c_new/c, …). */
const RECURRENT_SUFFIXES = ['N', 'n', '_out', 'Out', '_new', 'New', '.out', '_next', 'Next'];

function sameDeclaredShape(a: DeclaredDims, b: DeclaredDims): boolean {
  if (!a || !b || a.length !== b.length) return false;
  // a symbolic or unknown dimension matches anything (Silero declares stateN [?, ?, ?] for state [2, ?, 128])
  return a.every((d, i) => d === b[i] || typeof d !== 'number' || typeof b[i] !== 'number');
}

/** A recurrent output and the input it feeds one step later. */
export interface Chain {
  readonly output: string;
  readonly input: string;
}

/**
 * Output → input pairs of a recurrent model: an output named as an input (plus one of the usual
 * suffixes) with the same declared shape, as Silero VAD's `stateN` is its `state` one chunk later.
 */
export function recurrentPairs(
  inputs: readonly { readonly name: string; readonly shape: DeclaredDims }[],
  outputs: readonly { readonly name: string; readonly shape: DeclaredDims }[],
): Chain[] {
  const out: Chain[] = [];
  for (const o of outputs) {
    const input = inputs.find(
      (i) =>
        i.name !== o.name &&
        RECURRENT_SUFFIXES.some((s) => o.name === i.name + s) &&
        sameDeclaredShape(i.shape, o.shape),
    );
    if (input) out.push({ output: o.name, input: input.name });
  }
  return out;
}

/** Running sums for one output over the samples seen so far. */
export interface OutputTally {
  readonly name: string;
  signal: number;
  noise: number;
  /** Rows along the class axis, and rows whose top-1 class agrees (only when the output has one). */
  rows: number;
  agree: number;
  classAxis: boolean;
  samples: number;
}

export function createTally(name: string): OutputTally {
  return { name, signal: 0, noise: 0, rows: 0, agree: 0, classAxis: true, samples: 0 };
}

function argmax(x: ArrayLike<number>, from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (x[i]! > x[best]!) best = i;
  return best - from;
}

/** Fold one sample's float and exported outputs (same dims) into the tally. */
export function foldTally(
  t: OutputTally,
  float: ArrayLike<number>,
  exported: ArrayLike<number>,
  dims: readonly number[],
) {
  for (let i = 0; i < float.length; i++) {
    const d = float[i]! - exported[i]!;
    t.signal += float[i]! * float[i]!;
    t.noise += d * d;
  }
  // the class axis must hold on every sample for top-1 to be the metric
  t.classAxis &&= hasClassAxis(dims);
  if (t.classAxis) {
    const c = dims[dims.length - 1]!;
    for (let r = 0; r * c < float.length; r++) {
      t.rows++;
      if (argmax(float, r * c, (r + 1) * c) === argmax(exported, r * c, (r + 1) * c)) t.agree++;
    }
  }
  t.samples++;
}

/** Pooled SQNR in dB (Infinity when the export is exact). */
export function tallySqnr(t: OutputTally): number {
  if (t.noise === 0) return Infinity;
  return 10 * Math.log10(t.signal / t.noise);
}

export type GuardMetric = 'top-1 agreement' | 'output SQNR' | 'weight SQNR';

export interface GuardVerdict {
  readonly output: string;
  readonly metric: GuardMetric;
  /** Agreement as a fraction, or SQNR in dB. */
  readonly value: number;
  readonly target: number;
  readonly passed: boolean;
  readonly samples: number;
  /** Where the samples came from, in words ("4 held-out samples", "the calibration data's last 4 of 16 samples, …"). */
  readonly source: string;
  /** Weight SQNR (core/guardWeights.ts): the worst weights, worst first; `output` names the worst. */
  readonly worst?: readonly { readonly tensor: string; readonly node: string; readonly sqnrDb: number }[];
}

export function judgeTally(t: OutputTally, target: GuardTarget, source: string): GuardVerdict {
  if (t.classAxis && t.rows > 0) {
    const value = t.agree / t.rows;
    return {
      output: t.name,
      metric: 'top-1 agreement',
      value,
      target: target.top1,
      passed: value >= target.top1,
      samples: t.samples,
      source,
    };
  }
  const value = tallySqnr(t);
  return {
    output: t.name,
    metric: 'output SQNR',
    value,
    target: target.sqnrDb,
    passed: value >= target.sqnrDb,
    samples: t.samples,
    source,
  };
}

/** A metric's value as people read it: 97.3% or 18.4 dB. */
export function formatGuardValue(metric: GuardMetric, v: number): string {
  if (metric === 'top-1 agreement') return `${(100 * v).toFixed(1)}%`;
  return v === Infinity ? '∞ dB' : `${v.toFixed(1)} dB`;
}

/** One line: "top-1 agreement 97.3% on output, under the 99.0% target (…)". */
export function describeVerdict(v: GuardVerdict): string {
  const value = formatGuardValue(v.metric, v.value);
  const target = formatGuardValue(v.metric, v.target);
  const where = v.metric === 'weight SQNR' ? `worst weight ${v.output}` : `output ${v.output}`;
  return `${v.metric} ${value} on ${where}, ${v.passed ? 'meets' : 'under'} the ${target} target (${v.source})`;
}

/**
 * Which samples check the export: the user's held-out samples when there are any; else the last
 * fifth of the calibration samples (at least one), said so: they were calibrated on too, so a miss on
 * them is a sure miss and a pass is optimistic. Returns indices into the calibration list.
 */
export function guardSplit(calibrationCount: number): { readonly indices: number[]; readonly source: string } {
  const k = Math.max(1, Math.ceil(calibrationCount / 5));
  const start = Math.max(0, calibrationCount - k);
  const indices = Array.from({ length: calibrationCount - start }, (_, i) => start + i);
  return {
    indices,
    source: `the calibration data's last ${indices.length} of ${calibrationCount} samples, no held-out samples given (calibrated on too, so the check is optimistic)`,
  };
}
