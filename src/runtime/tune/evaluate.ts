/**
 * One session over the switchboard model evaluates any configuration on held-out samples: the float
 * outputs are computed once (every gate off, which is the float model exactly) and cached; each
 * configuration then runs each sample once, and only running sums are kept (core/errorSums).
 */
import {
  agreementRate,
  classAxisSize,
  EMPTY_AGREEMENT,
  EMPTY_SUMS,
  foldAgreement,
  foldErrorSums,
  mergeErrorSums,
  sumsCosine,
  sumsSqnr,
} from '../../core/errorSums';
import { QuantscopeError } from '../../core/errors';
import { encodeModelForRuntime } from '../../onnx';
import type { Switchboard } from '../../onnx/switchboard';
import { materializeSample, type SampleSpec } from '../../data/samples';
import { toOrtFeeds, type Feeds, type InferenceSession, type OrtModule, type Tensor } from '../ort';
import { controlFeeds, FLOAT_SETTING, type SwitchSetting } from './setting';
import { checkCancelled } from './cancelled';
import { compareOnHeldOut, type CompareOptions } from './nudgedCompare';
import { listSampleAt, runOnSample } from '../sampleRun';

export interface EvalMetrics {
  readonly sqnrDb: number;
  readonly cosine: number;
  /** Top-1 agreement along the class axis, when the output has one. */
  readonly top1: number | null;
  /** The task metric (e.g. OCR character accuracy), when the samples carry what it needs. */
  readonly task: number | null;
  /**
   * Held-out samples these metrics were measured on: all of them, unless the evaluation stopped early
   * (a bound showed it could not reach what it had to) or was asked for the first few only (screening).
   */
  readonly samples: number;
  /**
   * Where the evaluation stopped early: the most the bound's metric could reach over all samples
   * (top-1 agreement if every remaining row agreed; SQNR if the remaining samples added no error; with
   * a floor, if they lost only what they lost under the floor's configuration).
   */
  readonly atMost?: number;
  /**
   * The written file's check only (Evaluator.compare with nudges): top-1 agreement counting a row only
   * where the plain run and every nudged run agree with the float model (runtime/tune/nudge.ts).
   */
  readonly stableTop1?: number;
}

/**
 * Stop once this metric cannot reach `below` over the whole held-out set, whatever the remaining
 * samples give: exact, not a guess, so a configuration rejected this way would have been rejected
 * after all samples too. Top-1 agreement: the rows that disagree so far are already too many.
 * SQNR: the error so far against the float outputs' total energy (cached) is already too large.
 */
export interface EvalBound {
  readonly metric: 'top1' | 'sqnr';
  readonly below: number;
}

export interface EvalOptions {
  readonly signal?: AbortSignal;
  readonly bound?: EvalBound;
  /**
   * The metrics of a configuration measured on every sample that this one quantizes no less (e.g. the
   * current answer, when one of its fixes is given back): the bound then assumes each sample not yet run
   * loses at least what it lost there (its error, its rows that disagree). Not exact like the bound alone,
   * but the assumption the whole search rests on (quantizing more never helps, on the whole): with 2
   * held-out samples a configuration at the target's margin is then rejected after 1 run, not 2.
   */
  readonly floor?: EvalMetrics;
  /** Only the first this many samples of the current order (screening; the metrics say how many). */
  readonly samples?: number;
}

/** A task metric over the whole held-out set: e.g. character accuracy of the text read. */
export interface TaskMetric {
  readonly name: string;
  /** Called once with the float model's outputs before any score (a metric measured against them). */
  prepare?(floatOutputs: readonly Float32Array[], dims: readonly (readonly number[])[]): void;
  score(outputs: readonly Float32Array[], dims: readonly (readonly number[])[]): number;
}

export interface Evaluator {
  readonly output: string;
  readonly dims: readonly number[];
  readonly classes: number | null;
  readonly floatTask: number | null;
  readonly taskName: string | null;
  /** Sessions runs so far (float cache included). */
  readonly runs: number;
  /** Held-out samples in all. */
  readonly sampleCount: number;
  evaluate(setting: SwitchSetting, signal?: AbortSignal, opts?: EvalOptions): Promise<EvalMetrics>;
  /**
   * Orders the samples by their error in the last full evaluation, worst first, so that a bound stops
   * a bad configuration after as few runs as possible (the sums do not depend on the order, up to
   * float rounding).
   */
  hardestFirst(): void;
  /**
   * Metrics of another model on the same held-out samples against the same cached float outputs: the
   * written file in a session of its own (`run` gets a sample's inputs and returns the output;
   * nudgedCompare.ts).
   */
  compare(run: (inputs: Feeds) => Promise<Tensor>, signal?: AbortSignal, opts?: CompareOptions): Promise<EvalMetrics>;
  release(): Promise<void>;
}

/** Per held-out sample (by index): its output's squared error and its class rows that disagree. */
interface PerSample {
  readonly err2: readonly number[];
  readonly disagree: readonly number[];
}

export async function createEvaluator(
  ort: OrtModule,
  sb: Switchboard,
  samples: readonly SampleSpec[],
  opts: { output: string; task?: TaskMetric; session?: InferenceSession; signal?: AbortSignal },
): Promise<Evaluator> {
  if (samples.length === 0) throw new QuantscopeError('BAD_DATA', 'no held-out samples to evaluate on');
  // onnxruntime's QDQ transformers (propagation, int8 → uint8 conversion) must not rewrite the gated
  // Q/DQ pairs: their scales are inputs, and the switchboard stays plain fake quantization
  // (session.disable_quant_qdq, onnxruntime_session_options_config_keys.h). Its intra-op threads wait
  // without spinning (session.intra_op.allow_spinning, same header): between the short runs a tune makes
  // back to back, spinning threads only take the cores from the next run and from other processes (rec
  // on 2 shared cores at load 3-4: 3 evaluations of 8 lines 2.8 s wall and CPU spinning, 1.4 s not; the
  // default-target tune 45 s wall and 47 s CPU spinning, 23 s and 23 s not, with the same 75 trials and
  // choice: the threads split the work the same way, so the outputs are the same)
  const session =
    opts.session ??
    // encodeModelForRuntime: a model with external data keeps only the spec's keys (onnx/codec.ts)
    (await ort.InferenceSession.create(encodeModelForRuntime(sb.model), {
      logSeverityLevel: 3,
      extra: { session: { disable_quant_qdq: '1', intra_op: { allow_spinning: '0' } } },
    } as never));
  if (!session.outputNames.includes(opts.output))
    throw new QuantscopeError('BAD_DATA', `the model has no output "${opts.output}"`);
  let runs = 0;
  // held-out sets are small: their tensors are made once and kept for every configuration
  const inputs = samples.map((s) => materializeSample(s));
  const run = async (i: number, setting: SwitchSetting): Promise<Tensor> => {
    const feeds = { ...inputs[i]!, ...controlFeeds(sb, setting) };
    const at = listSampleAt(samples, i);
    // the failure names the sample's own inputs, not the switchboard's scales
    const r = await runOnSample(() => session.run(toOrtFeeds(ort, feeds), [opts.output]), inputs[i]!, at);
    runs++;
    const t = r[opts.output] as Tensor;
    if (t.type !== 'float32')
      throw new QuantscopeError('BAD_DATA', `output "${opts.output}" is ${t.type}, not float32: nothing to compare`);
    return t;
  };
  const reference: Float32Array[] = [];
  const dimsList: number[][] = [];
  for (let i = 0; i < samples.length; i++) {
    checkCancelled(opts.signal, 'evaluation');
    const t = await run(i, FLOAT_SETTING);
    reference.push((t.data as Float32Array).slice());
    dimsList.push([...t.dims]);
  }
  const dims = dimsList[0]!;
  const classes = classAxisSize(dims);
  opts.task?.prepare?.(reference, dimsList);
  const floatTask = opts.task ? opts.task.score(reference, dimsList) : null;
  // what the bounds need of the whole set: the float outputs' energy and each sample's class rows
  const refEnergy = reference.reduce((n, r) => n + foldErrorSums(EMPTY_SUMS, r, r).ref2, 0);
  const rowsOf = dimsList.map((d, i) => {
    const c = classAxisSize(d);
    return c === null ? 0 : reference[i]!.length / c;
  });
  const totalRows = rowsOf.reduce((a, b) => a + b, 0);
  let order = samples.map((_, i) => i);
  let last: PerSample | null = null;
  // each full evaluation's per-sample losses, for a later evaluation's floor (EvalOptions.floor)
  const perSample = new WeakMap<EvalMetrics, PerSample>();
  return {
    output: opts.output,
    dims,
    classes,
    floatTask,
    taskName: opts.task?.name ?? null,
    get runs() {
      return runs;
    },
    sampleCount: samples.length,
    hardestFirst() {
      const e = last;
      if (e) order = [...order].sort((a, b) => e.disagree[b]! - e.disagree[a]! || e.err2[b]! - e.err2[a]! || a - b);
    },
    async evaluate(setting, signal, eo = {}) {
      let sums = EMPTY_SUMS;
      let agreement = EMPTY_AGREEMENT;
      let rowsLeft = totalRows;
      const outs: Float32Array[] = [];
      const disagree: number[] = new Array<number>(samples.length).fill(0);
      const err2: number[] = new Array<number>(samples.length).fill(0);
      const count = Math.min(samples.length, eo.samples ?? samples.length);
      let done = 0;
      let atMost: number | undefined;
      const seq = order.slice(0, count);
      const floor = eo.floor ? perSample.get(eo.floor) : undefined;
      // what the samples not yet run lose at least: under the floor's configuration (none without one)
      const floorOf = (rest: readonly number[], of: 'err2' | 'disagree') =>
        floor ? rest.reduce((n, i) => n + floor[of][i]!, 0) : 0;
      const inOrder = (o: readonly Float32Array[]): Float32Array[] => {
        const back = new Array<Float32Array>(o.length);
        seq.forEach((i, k) => (back[i] = o[k]!));
        return back;
      };
      // a setting that quantizes nothing (every gate off: the search's "every group kept float") is the
      // float model exactly, whose outputs are cached: no run (same metrics, switchboard.node.test.ts)
      const float = setting.activations.size === 0 && setting.weights.size === 0;
      for (const i of seq) {
        checkCancelled(signal ?? eo.signal, 'evaluation');
        const t = float ? { data: reference[i]!, dims: dimsList[i]! } : await run(i, setting);
        const y = t.data as Float32Array;
        const own = foldErrorSums(EMPTY_SUMS, reference[i]!, y);
        err2[i] = own.err2;
        sums = mergeErrorSums(sums, own);
        const c = classAxisSize(t.dims);
        if (c !== null && classes !== null) {
          const before = agreement.rows - agreement.agree;
          agreement = foldAgreement(agreement, reference[i]!, y, c);
          disagree[i] = agreement.rows - agreement.agree - before;
        }
        rowsLeft -= rowsOf[i]!;
        if (opts.task) outs.push(y.slice());
        done++;
        const b = eo.bound;
        if (b && done < count) {
          const rest = seq.slice(done);
          const lost = sums.err2 + floorOf(rest, 'err2');
          const best =
            b.metric === 'top1'
              ? totalRows > 0 && classes !== null
                ? (agreement.agree + rowsLeft - floorOf(rest, 'disagree')) / totalRows
                : Infinity
              : lost > 0 && refEnergy > 0
                ? 10 * Math.log10(refEnergy / lost)
                : Infinity;
          if (best < b.below) {
            atMost = best;
            break;
          }
        }
      }
      const metrics: EvalMetrics = {
        sqnrDb: sumsSqnr(sums),
        cosine: sumsCosine(sums),
        top1: classes !== null ? agreementRate(agreement) : null,
        // a task metric reads every sample (in their own order): none where the evaluation stopped short
        task: opts.task && done === samples.length ? opts.task.score(inOrder(outs), dimsList) : null,
        samples: done,
        ...(atMost !== undefined ? { atMost } : {}),
      };
      if (done === samples.length) {
        last = { disagree, err2 };
        perSample.set(metrics, last);
      }
      return metrics;
    },
    compare(runFile, signal, co = {}) {
      return compareOnHeldOut(
        { inputs, reference, dims: dimsList, classes, rowsOf, totalRows, task: opts.task },
        order,
        runFile,
        signal,
        co,
      );
    },
    async release() {
      if (!opts.session) await session.release();
    },
  };
}
