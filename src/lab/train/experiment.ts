/** The PTQ/QAT lesson's experiment on the lab's MLP (see mlp.ts). */
import { createAdam, trainStep } from './adam';
import type { Dataset } from './datasets';
import { accuracy, cloneMlp, createMlp, type Mlp } from './mlp';

export interface Experiment {
  readonly floatAccuracy: number;
  readonly ptqAccuracy: number;
  readonly qatAccuracy: number;
  readonly float: Mlp;
  readonly qat: Mlp;
}

export interface ExperimentOptions {
  readonly hidden: readonly number[];
  readonly floatSteps: number;
  readonly qatSteps: number;
  readonly qatLearningRate: number;
}

export const EXPERIMENT: ExperimentOptions = {
  hidden: [16, 16],
  floatSteps: 400,
  qatSteps: 400,
  qatLearningRate: 0.03,
};

/**
 * The lesson's experiment, as a generator that yields after every chunk of steps so that a page can
 * run it in slices: train float; PTQ = the float net evaluated at `bits`; QAT = the float net
 * fine-tuned with fake quantization at `bits`, then evaluated at `bits`.
 */
export function* experiment(
  train: Dataset,
  test: Dataset,
  bits: number,
  seed: number,
  opts: { chunk?: number; edgeBits?: number; options?: ExperimentOptions } = {},
): Generator<number, Experiment> {
  const { chunk = 20, edgeBits = 8, options: o = EXPERIMENT } = opts;
  const sizes = [2, ...o.hidden, 2];
  const float = createMlp(sizes, seed);
  const opt = createAdam(float);
  const total = o.floatSteps + o.qatSteps;
  for (let s = 0; s < o.floatSteps; s++) {
    trainStep(float, opt, train, null);
    if (s % chunk === chunk - 1) yield (s + 1) / total;
  }
  const qat = cloneMlp(float);
  const qopt = createAdam(qat);
  const q = { bits, edgeBits };
  for (let s = 0; s < o.qatSteps; s++) {
    trainStep(qat, qopt, train, q, o.qatLearningRate);
    if (s % chunk === chunk - 1) yield (o.floatSteps + s + 1) / total;
  }
  return {
    floatAccuracy: accuracy(float, test),
    ptqAccuracy: accuracy(float, test, q),
    qatAccuracy: accuracy(qat, test, q),
    float,
    qat,
  };
}

/** Run a generator to its end (Node, tests). */
export function runToEnd<T>(g: Generator<number, T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}
