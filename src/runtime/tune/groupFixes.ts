/**
 * The group-level pieces of the tuning search (search.ts): the choices that fix a group, cheapest first;
 * static QDQ groups ordered by their own quantization error; and labels for a group's fix and state.
 */
import { activationConfigFor, activationRange, type QuantConfig } from '../../core/config';
import { histogramRangeError } from '../../core/methods/rangeError';
import type { IntDType } from '../../core/dtype';
import { choiceLabel, type GroupChoice, type QuantGroup } from '../../onnx/groups';
import type { TuneContext } from './tuneContext';

export function wideOf(d: IntDType): IntDType {
  return d.startsWith('u') ? 'uint16' : 'int16';
}

/** The choices that fix a group, cheapest first. */
export function fixChoices(ctx: TuneContext, g: QuantGroup): GroupChoice[] {
  const weighted = new Set(ctx.sb.weightNodes.map((w) => w.node));
  const form = ctx.baseConfig.form ?? { kind: 'qdq' };
  const out: GroupChoice[] = [];
  if (form.kind === 'weight-only') {
    if (form.dtype !== 'int8' && ctx.sb.weightVariants.includes('int8')) {
      out.push({ kind: 'weights', dtype: 'int8', blockSize: null });
    }
  } else {
    if (g.tensors.length && ctx.sb.activationDtypes.includes(wideOf(ctx.baseConfig.activations.dtype)))
      out.push({ kind: 'activations', fields: { dtype: wideOf(ctx.baseConfig.activations.dtype) } });
    // float activations on quantized weights: most of keeping float's accuracy at the quantized size
    if (g.tensors.length && g.nodes.some((n) => weighted.has(n))) out.push({ kind: 'float-activations' });
  }
  out.push({ kind: 'float' });
  return out;
}

/**
 * Static QDQ groups ordered by their activation's own quantization error under a configuration, worst
 * first: the SQNR of the calibration histogram against its range (no run). Groups with no activation
 * or no histogram go last, in graph order.
 */
export function orderByOwnError(ctx: TuneContext, config: QuantConfig): QuantGroup[] {
  const producer = new Map(
    ctx.setting.prepared.graph!.node.flatMap((n) => n.output.map((o) => [o, n.opType] as const)),
  );
  const own = (g: QuantGroup): number => {
    const t = g.tensors[0];
    const s = t === undefined ? undefined : ctx.setting.stats[t];
    if (!t || !s || s.histogramError || s.minmax.min > s.minmax.max) return Infinity;
    const act = activationConfigFor(config, t, producer.get(t));
    const r = activationRange(s, act);
    return histogramRangeError(s.histogram, Math.fround(r.rmin), Math.fround(r.rmax), act.dtype, act).sqnrDb;
  };
  const scored = ctx.groups.map((g, i) => ({ g, i, v: own(g) }));
  scored.sort((a, b) => a.v - b.v || a.i - b.i);
  return scored.map((x) => x.g);
}

/** The distinct fixes of a prefix, e.g. "int16 activations or kept float". */
export function fixLabel(fixes: readonly { choice: GroupChoice }[]): string {
  return [...new Set(fixes.map((f) => choiceLabel(f.choice)))].join(' or ');
}

export function groupState(config: QuantConfig, g: QuantGroup): string {
  return JSON.stringify([g.tensors.map((t) => config.tensors?.[t]), g.nodes.map((n) => config.nodes?.[n])]);
}

export function describeState(config: QuantConfig, g: QuantGroup): string {
  if (g.nodes.some((n) => config.nodes?.[n]?.exclude)) return 'kept float';
  if (g.tensors.some((t) => config.tensors?.[t]?.exclude))
    return g.nodes.length ? 'activations kept float, weights quantized' : 'kept float';
  const parts: string[] = [];
  const a = g.tensors.map((t) => config.tensors?.[t]?.activations?.dtype).find((d) => d);
  if (a) parts.push(`${a} activations`);
  const m = g.tensors.map((t) => config.tensors?.[t]?.activations?.method).find((d) => d);
  if (m) parts.push(`${m} range`);
  const w = g.nodes.map((n) => config.nodes?.[n]?.weights).find((x) => x?.dtype);
  if (w) parts.push(`${w.dtype} weights${w.blockSize ? ` in blocks of ${w.blockSize}` : ' per channel'}`);
  return parts.join(', ') || 'as chosen';
}
