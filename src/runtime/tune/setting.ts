/**
 * A configuration as switchboard feeds: which activations are quantized (and with which scale and
 * zero point), which weight variant each node reads. Derived from the same plan and ranges an export
 * would use (planQuantization, core/config activationRange, core/conventions quantParams), so the
 * switchboard computes what the exported file computes, up to the kernel differences it documents.
 */
import {
  activationConfigFor,
  activationRange,
  isExcluded,
  type ActivationConfig,
  weightConfigFor,
  type QuantConfig,
  type WeightConfig,
} from '../../core/config';
import { quantParams } from '../../core/conventions';
import type { IntDType } from '../../core/dtype';
import { QuantscopeError } from '../../core/errors';
import type { MethodStats, Range } from '../../core/methods';
import { planQuantization, type ModelProto } from '../../onnx';
import type { Switchboard } from '../../onnx/switchboard';
import type { FeedTensor, Feeds } from '../ort';

export interface SwitchSetting {
  readonly activations: ReadonlyMap<
    string,
    { readonly dtype: IntDType; readonly scale: number; readonly zeroPoint: number }
  >;
  /** node → weight variant key; a node not here reads its float weight. */
  readonly weights: ReadonlyMap<string, string>;
}

export const FLOAT_SETTING: SwitchSetting = { activations: new Map(), weights: new Map() };

/** The key of a weight variant: "int8", "int4-b32", "int8-pt" (per tensor), "uint8-asym". */
export function weightKey(w: Pick<WeightConfig, 'dtype' | 'symmetric' | 'perChannel' | 'blockSize'>): string {
  const sym = w.symmetric === !w.dtype.startsWith('u') ? '' : w.symmetric ? '-sym' : '-asym';
  const gran = w.blockSize ? `-b${w.blockSize}` : w.perChannel ? '' : '-pt';
  return `${w.dtype}${sym}${gran}`;
}

/** Per-tensor statistics, and the prepared graph's producers (op type) for per-op-type choices. */
export interface SettingContext {
  readonly prepared: ModelProto;
  readonly stats: Readonly<Record<string, MethodStats & { minmax: { nanCount: number; infCount: number } }>>;
}

/**
 * Activation ranges already computed, per tensor statistics object: a range is a pure function of the
 * tensor's statistics and its activation settings, and the search asks for the same ones again and
 * again (every configuration it sizes or measures, with the model-wide method PP-OCRv4 rec's search
 * picks, MSE, searches each of 274 histograms anew otherwise), and so do the files it writes and checks
 * (prepare.ts rangesFor). Keyed by the statistics object itself: calibration replaces a tensor's object
 * with each sample it folds (runtime/foldStats.ts), so a cached range never outlives its statistics.
 */
const rangeCache = new WeakMap<object, Map<string, Range>>();

export function cachedRange(stats: SettingContext['stats'], tensor: string, act: ActivationConfig): Range {
  const s = stats[tensor]!;
  let byAct = rangeCache.get(s);
  if (!byAct) rangeCache.set(s, (byAct = new Map()));
  // every field in the key (dtype and the rest too): two settings share a range only when they are equal
  const key = JSON.stringify(act);
  let r = byAct.get(key);
  if (!r) byAct.set(key, (r = activationRange(s, act)));
  return r;
}

export function settingFor(sb: Switchboard, ctx: SettingContext, config: QuantConfig): SwitchSetting {
  const form = config.form ?? { kind: 'qdq' };
  const weights = new Map<string, string>();
  const activations = new Map<string, { dtype: IntDType; scale: number; zeroPoint: number }>();
  const known = new Set(sb.weightVariants);
  const need = (key: string, node: string): string => {
    if (!known.has(key))
      throw new QuantscopeError('BAD_RANGE', `the switchboard has no "${key}" weights for node ${node}`);
    return key;
  };
  const sbNodes = new Map(sb.weightNodes.map((n) => [n.node, n]));
  if (form.kind === 'weight-only') {
    for (const n of sb.weightNodes) {
      if (isExcluded(config, n.node, n.opType)) continue;
      const o = config.nodes?.[n.node]?.weights;
      const dtype = o?.dtype ?? form.dtype;
      const blockSize = o?.blockSize !== undefined ? o.blockSize : form.blockSize;
      weights.set(
        n.node,
        need(weightKey({ dtype, symmetric: !dtype.startsWith('u'), perChannel: true, blockSize }), n.node),
      );
    }
    return { activations, weights };
  }
  if (form.kind !== 'qdq')
    throw new QuantscopeError('BAD_RANGE', `the switchboard takes static QDQ or weight-only, not ${form.kind}`);
  const plan = planQuantization(ctx.prepared, config);
  const producer = new Map(ctx.prepared.graph!.node.flatMap((n) => n.output.map((o) => [o, n.opType] as const)));
  const gated = new Set(sb.activations);
  for (const t of plan.activations) {
    if (config.tensors?.[t]?.exclude) continue;
    if (!gated.has(t)) throw new QuantscopeError('BAD_RANGE', `the switchboard has no gate on tensor "${t}"`);
    const s = ctx.stats[t];
    if (!s || s.minmax.nanCount + s.minmax.infCount > 0 || s.minmax.min > s.minmax.max) continue;
    const act = activationConfigFor(config, t, producer.get(t));
    if (!sb.activationDtypes.includes(act.dtype))
      throw new QuantscopeError('BAD_RANGE', `the switchboard has no ${act.dtype} branch for "${t}"`);
    const r = cachedRange(ctx.stats, t, act);
    const p = quantParams(Math.fround(r.rmin), Math.fround(r.rmax), act.dtype, act);
    if (!Number.isFinite(p.scale)) continue;
    activations.set(t, { dtype: act.dtype, scale: p.scale, zeroPoint: p.zeroPoint });
  }
  for (const pn of plan.nodes) {
    if (!sbNodes.has(pn.name)) continue;
    weights.set(pn.name, need(weightKey(weightConfigFor(config, pn.name, pn.opType)), pn.name));
  }
  return { activations, weights };
}

const INT_ARRAYS = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
} as const;

/** The switchboard's control inputs for a setting. */
export function controlFeeds(sb: Switchboard, setting: SwitchSetting): Feeds {
  const feeds: Record<string, FeedTensor> = {};
  const n = sb.activations.length;
  for (const d of sb.activationDtypes) {
    const enable = new Uint8Array(n);
    const scale = new Float32Array(n).fill(1);
    const Z = INT_ARRAYS[d as keyof typeof INT_ARRAYS];
    if (!Z) throw new QuantscopeError('UNSUPPORTED_DTYPE', `switchboard activations: ${d} is not offered`);
    const zp = new Z(n);
    sb.activations.forEach((t, j) => {
      const a = setting.activations.get(t);
      if (!a || a.dtype !== d) return;
      enable[j] = 1;
      scale[j] = a.scale;
      zp[j] = a.zeroPoint;
    });
    feeds[sb.inputs.actEnable.get(d)!] = { type: 'bool', data: enable, dims: [n] };
    feeds[sb.inputs.actScale.get(d)!] = { type: 'float32', data: scale, dims: [n] };
    feeds[sb.inputs.actZeroPoint.get(d)!] = { type: d as 'int8', data: zp, dims: [n] };
  }
  for (const key of sb.weightVariants) {
    const enable = new Uint8Array(sb.weightNodes.length);
    sb.weightNodes.forEach((w, j) => {
      if (setting.weights.get(w.node) === key) enable[j] = 1;
    });
    feeds[sb.inputs.weightEnable.get(key)!] = { type: 'bool', data: enable, dims: [sb.weightNodes.length] };
  }
  return feeds;
}

/** Bytes of the file a setting would write, from the float bytes and each variant's bytes per node. */
export function estimatedBytes(sb: Switchboard, floatBytes: number, setting: SwitchSetting): number {
  let bytes = floatBytes;
  for (const w of sb.weightNodes) {
    const key = setting.weights.get(w.node);
    if (key) bytes += (w.variantBytes.get(key) ?? w.floatBytes) - w.floatBytes;
  }
  return bytes;
}
