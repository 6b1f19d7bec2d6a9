/**
 * The written file's metrics on the evaluator's held-out samples, against the float outputs it cached
 * (Evaluator.compare, runtime/tune/evaluate.ts): with nudges, also the top-1 agreement counting only the
 * rows that hold under nudged inputs (nudge.ts says why), stopped as soon as that cannot reach a need.
 */
import {
  agreementRate,
  classAxisSize,
  EMPTY_AGREEMENT,
  EMPTY_SUMS,
  foldAgreement,
  foldAgreementAll,
  foldErrorSums,
  sumsCosine,
  sumsSqnr,
} from '../../core/errorSums';
import type { Feeds, Tensor } from '../ort';
import { checkCancelled } from './cancelled';
import type { EvalMetrics, TaskMetric } from './evaluate';
import { nudgedFeeds } from './nudge';

export interface CompareOptions {
  readonly nudges?: number;
  /**
   * With nudges: stop once the rows that hold cannot reach this top-1 agreement (the metrics then
   * cover the samples run, and stableTop1 and atMost are the most it could reach).
   */
  readonly need?: number;
}

/** What an evaluator keeps of its held-out samples and of the float model's outputs on them. */
export interface HeldOutReference {
  /** Each sample's input tensors, made once. */
  readonly inputs: readonly Feeds[];
  /** The float model's output on each sample, and its dims. */
  readonly reference: readonly Float32Array[];
  readonly dims: readonly (readonly number[])[];
  /** The output's class axis size (null: none, so no top-1 agreement). */
  readonly classes: number | null;
  /** Each sample's class rows, and all of them. */
  readonly rowsOf: readonly number[];
  readonly totalRows: number;
  readonly task?: TaskMetric;
}

/**
 * Metrics of another model (`runFile` gets a sample's inputs and returns the output) against the float
 * outputs in `held`; `hardestFirst` is the evaluator's current sample order, used when there is a need.
 */
export async function compareOnHeldOut(
  held: HeldOutReference,
  hardestFirst: readonly number[],
  runFile: (inputs: Feeds) => Promise<Tensor>,
  signal: AbortSignal | undefined,
  co: CompareOptions,
): Promise<EvalMetrics> {
  const { inputs, reference, classes, rowsOf, totalRows, task } = held;
  let sums = EMPTY_SUMS;
  let agreement = EMPTY_AGREEMENT;
  let stable = EMPTY_AGREEMENT;
  // nudged runs only say something about a class axis (which rows flip)
  const nudges = classes !== null ? (co.nudges ?? 0) : 0;
  const outs: Float32Array[] = [];
  let rowsLeft = totalRows;
  let done = 0;
  let atMost: number | undefined;
  // with a need, the hardest samples first: a file that cannot reach it stops soonest
  const seq = co.need !== undefined && nudges > 0 ? hardestFirst : inputs.map((_, i) => i);
  for (const i of seq) {
    checkCancelled(signal, 'evaluation');
    const t = await runFile(inputs[i]!);
    const y = t.data as Float32Array;
    sums = foldErrorSums(sums, reference[i]!, y);
    const c = classAxisSize(t.dims);
    if (c !== null && classes !== null) {
      agreement = foldAgreement(agreement, reference[i]!, y, c);
      if (nudges > 0) {
        const runs: Float32Array[] = [y.slice()];
        for (let k = 1; k <= nudges; k++) {
          checkCancelled(signal, 'evaluation');
          runs.push((await runFile(nudgedFeeds(inputs[i]!, 1000 * i + k))).data as Float32Array);
        }
        stable = foldAgreementAll(stable, reference[i]!, runs, c);
      }
    }
    if (task) outs.push(y.slice());
    rowsLeft -= rowsOf[i]!;
    done++;
    // the most the stable rows can reach if every row left held: below the need, the file misses
    if (co.need !== undefined && nudges > 0 && done < inputs.length && totalRows > 0) {
      const best = (stable.agree + rowsLeft) / totalRows;
      if (best < co.need) {
        atMost = best;
        break;
      }
    }
  }
  return {
    sqnrDb: sumsSqnr(sums),
    cosine: sumsCosine(sums),
    top1: classes !== null ? agreementRate(agreement) : null,
    task: task && done === inputs.length ? task.score(outs, held.dims) : null,
    samples: done,
    ...(nudges > 0 ? { stableTop1: atMost ?? agreementRate(stable) } : {}),
    ...(atMost !== undefined ? { atMost } : {}),
  };
}
