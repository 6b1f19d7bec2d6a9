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
  sumsCosine,
  sumsSqnr,
} from '../../core/errorSums';
import { QuantscopeError } from '../../core/errors';
import { encodeModel } from '../../onnx';
import type { Switchboard } from '../../onnx/switchboard';
import { materializeSample, type SampleSpec } from '../../data/samples';
import { toOrtFeeds, type InferenceSession, type OrtModule, type Tensor } from '../ort';
import { controlFeeds, FLOAT_SETTING, type SwitchSetting } from './setting';

export interface EvalMetrics {
  readonly sqnrDb: number;
  readonly cosine: number;
  /** Top-1 agreement along the class axis, when the output has one. */
  readonly top1: number | null;
  /** The task metric (e.g. OCR character accuracy), when the samples carry what it needs. */
  readonly task: number | null;
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
  evaluate(setting: SwitchSetting, signal?: AbortSignal): Promise<EvalMetrics>;
  release(): Promise<void>;
}

export function checkCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new QuantscopeError('CANCELLED', `${what} was cancelled`);
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
  // (session.disable_quant_qdq, onnxruntime_session_options_config_keys.h)
  const session =
    opts.session ??
    (await ort.InferenceSession.create(encodeModel(sb.model), {
      logSeverityLevel: 3,
      extra: { session: { disable_quant_qdq: '1' } },
    } as never));
  if (!session.outputNames.includes(opts.output))
    throw new QuantscopeError('BAD_DATA', `the model has no output "${opts.output}"`);
  let runs = 0;
  // held-out sets are small: their tensors are made once and kept for every configuration
  const inputs = samples.map((s) => materializeSample(s));
  const run = async (i: number, setting: SwitchSetting): Promise<Tensor> => {
    const feeds = { ...inputs[i]!, ...controlFeeds(sb, setting) };
    const r = await session.run(toOrtFeeds(ort, feeds), [opts.output]);
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
  return {
    output: opts.output,
    dims,
    classes,
    floatTask,
    taskName: opts.task?.name ?? null,
    get runs() {
      return runs;
    },
    async evaluate(setting, signal) {
      let sums = EMPTY_SUMS;
      let agreement = EMPTY_AGREEMENT;
      const outs: Float32Array[] = [];
      for (let i = 0; i < samples.length; i++) {
        checkCancelled(signal, 'evaluation');
        const t = await run(i, setting);
        const y = t.data as Float32Array;
        sums = foldErrorSums(sums, reference[i]!, y);
        const c = classAxisSize(t.dims);
        if (c !== null && classes !== null) agreement = foldAgreement(agreement, reference[i]!, y, c);
        if (opts.task) outs.push(y.slice());
      }
      return {
        sqnrDb: sumsSqnr(sums),
        cosine: sumsCosine(sums),
        top1: classes !== null ? agreementRate(agreement) : null,
        task: opts.task ? opts.task.score(outs, dimsList) : null,
      };
    },
    async release() {
      if (!opts.session) await session.release();
    },
  };
}
