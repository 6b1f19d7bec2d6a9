/**
 * Everything a sensitivity sweep or a tuning search needs, built once: the weight variants (real
 * exports of the prepared model: the chosen weights, and int8 per channel as the fix), the switchboard
 * model over them, one session with the float outputs cached, and the groups.
 */
import { activationConfigFor, type QuantConfig, type WeightConfig } from '../../core/config';
import { QuantscopeError } from '../../core/errors';
import { buildQdqModel, exportForm, planQuantization, type ModelProto, type TensorRange } from '../../onnx';
import { qdqGroups, recurrentOutputs, weightGroups, type QuantGroup } from '../../onnx/groups';
import { buildSwitchboard, type Switchboard, type WeightVariantModel } from '../../onnx/switchboard';
import { frozenWeights, weightDqModel } from '../../onnx/switchboardFrozenWeights';
import { encodeModelForRuntime, graphTensors, isExternal, storedByteLength } from '../../onnx';
import type { Tensor } from '../ort';
import type { StatsMap } from '../calibrate';
import type { SampleSpec } from '../../data/samples';
import type { OrtModule } from '../ort';
import { createEvaluator, type TaskMetric } from './evaluate';
import type { TuneContext } from './tuneContext';
import { cachedRange, weightKey } from './setting';

/** The ranges a configuration takes from calibration statistics (null: NaN or Infinity seen). */
export function rangesFor(stats: StatsMap, prepared: ModelProto, config: QuantConfig): Map<string, TensorRange | null> {
  const producer = new Map(prepared.graph!.node.flatMap((n) => n.output.map((o) => [o, n.opType] as const)));
  const out = new Map<string, TensorRange | null>();
  for (const [t, s] of Object.entries(stats)) {
    if (s.minmax.nanCount + s.minmax.infCount > 0 || s.minmax.min > s.minmax.max) {
      out.set(t, null);
      continue;
    }
    const r = cachedRange(stats, t, activationConfigFor(config, t, producer.get(t)));
    out.set(t, { rmin: Math.fround(r.rmin), rmax: Math.fround(r.rmax) });
  }
  return out;
}

/** The first output that is not recurrent state: what the default target reads. */
export function defaultOutput(prepared: ModelProto): string {
  const rec = recurrentOutputs(prepared);
  const o = prepared.graph!.output.find((v) => !rec.has(v.name));
  if (!o)
    throw new QuantscopeError('BAD_DATA', 'every output of the model is fed back into an input: nothing to target');
  return o.name;
}

export interface TuningOptions {
  /** The output the metrics read (default: the first that is not recurrent state). */
  readonly output?: string;
  readonly task?: TaskMetric;
  /** Bytes of the float model file. */
  readonly floatBytes: number;
  readonly signal?: AbortSignal;
}

const INT8_PER_CHANNEL: Pick<WeightConfig, 'dtype' | 'symmetric' | 'perChannel' | 'blockSize'> = {
  dtype: 'int8',
  symmetric: true,
  perChannel: true,
  blockSize: null,
};

export async function prepareTuning(
  ort: OrtModule,
  prepared: ModelProto,
  baseConfig: QuantConfig,
  stats: StatsMap | null,
  heldOut: readonly SampleSpec[],
  opts: TuningOptions,
): Promise<TuneContext & { release(): Promise<void> }> {
  const form = baseConfig.form ?? { kind: 'qdq' };
  const variants: WeightVariantModel[] = [];
  let activations: readonly string[] = [];
  let activationDtypes: ('int8' | 'uint8' | 'int16' | 'uint16')[] = [];
  let groups: (sb: ReturnType<typeof buildSwitchboard>) => QuantGroup[];
  if (form.kind === 'qdq') {
    if (!stats) throw new QuantscopeError('NO_STATISTICS', 'static QDQ needs calibrated ranges: calibrate first');
    const plan = planQuantization(prepared, baseConfig);
    const ranges = rangesFor(stats, prepared, baseConfig);
    const weightChoices = [baseConfig.weights, { ...baseConfig.weights, ...INT8_PER_CHANNEL }];
    const keys = new Set<string>();
    for (const w of weightChoices) {
      const key = weightKey(w);
      if (keys.has(key)) continue;
      keys.add(key);
      const cfg: QuantConfig = { ...baseConfig, weights: w };
      variants.push({ key, model: buildQdqModel(prepared, planQuantization(prepared, cfg), ranges, cfg).model });
    }
    activations = plan.activations;
    const base = baseConfig.activations.dtype;
    if (base !== 'int8' && base !== 'uint8' && base !== 'int16' && base !== 'uint16')
      throw new QuantscopeError('UNSUPPORTED_DTYPE', `tuning takes 8- or 16-bit activations, not ${base}`);
    const wide = base.startsWith('u') ? 'uint16' : 'int16';
    activationDtypes = base === wide ? [base] : [base, wide];
    groups = () => qdqGroups(prepared, plan);
  } else if (form.kind === 'weight-only' && form.format === 'dq') {
    const choices = [
      { dtype: form.dtype, blockSize: form.blockSize },
      { dtype: 'int8' as const, blockSize: null },
    ];
    const keys = new Set<string>();
    for (const c of choices) {
      const key = weightKey({
        dtype: c.dtype,
        symmetric: !c.dtype.startsWith('u'),
        perChannel: true,
        blockSize: c.blockSize,
      });
      if (keys.has(key)) continue;
      keys.add(key);
      const cfg: QuantConfig = {
        ...baseConfig,
        form: { ...form, dtype: c.dtype, symmetric: !c.dtype.startsWith('u'), blockSize: c.blockSize },
        nodes: {},
      };
      variants.push({ key, model: exportForm(prepared, cfg).model });
    }
    groups = (sb) => weightGroups(sb.weightNodes.map((n) => n.node));
  } else
    throw new QuantscopeError(
      'BAD_RANGE',
      `tuning searches static QDQ and weight-only (DequantizeLinear) files, not ${form.kind === 'weight-only' ? 'MatMulNBits' : form.kind}`,
    );
  const sb = await freeze(ort, buildSwitchboard(prepared, { activations, activationDtypes, weightVariants: variants }));
  const output = opts.output ?? defaultOutput(prepared);
  const evaluator = await createEvaluator(ort, sb, heldOut, { output, task: opts.task, signal: opts.signal });
  return {
    sb,
    evaluator,
    setting: { prepared, stats: stats ?? {} },
    groups: groups(sb),
    baseConfig,
    floatBytes: opts.floatBytes,
    preparedBytes: preparedFileBytes(prepared),
    release: () => evaluator.release(),
  };
}

/** The prepared model's size as a file: its encoding, plus the tensors it keeps in external data files. */
function preparedFileBytes(prepared: ModelProto): number {
  let outside = 0;
  for (const t of graphTensors(prepared.graph!)) if (isExternal(t)) outside += storedByteLength(t);
  return encodeModelForRuntime(prepared).length + outside;
}

/** The borrowed weight DequantizeLinear nodes run once, and their outputs stored as float32 initializers. */
async function freeze(ort: OrtModule, sb: Switchboard): Promise<Switchboard> {
  if (sb.weightDqOutputs.length === 0) return sb;
  // encodeModelForRuntime: a model with external data keeps only the spec's keys (onnx/codec.ts)
  const session = await ort.InferenceSession.create(encodeModelForRuntime(weightDqModel(sb)), {
    logSeverityLevel: 3,
  } as never);
  try {
    const r = await session.run({});
    const values = new Map<string, { data: Float32Array; dims: readonly number[] }>();
    for (const o of sb.weightDqOutputs) {
      const t = r[o] as Tensor;
      values.set(o, { data: t.data as Float32Array, dims: t.dims });
    }
    return frozenWeights(sb, values);
  } finally {
    await session.release();
  }
}
