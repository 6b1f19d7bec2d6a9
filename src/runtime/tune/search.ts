/**
 * Tuning over one switchboard session.
 *
 * Tuning (in the manner of NNCF's accuracy control and Intel Neural Compressor's strategies): start from
 * the chosen configuration; try model-wide moves first (each calibration method everywhere, 16-bit
 * activations everywhere, 8-bit weights everywhere); then, per group, the calibration method (free in
 * size: only the range moves) on the most sensitive groups; then, from the best start of the same size, fix
 * groups in sensitivity order (the group whose float version helps most first), each with the cheapest
 * choice that improves the metric (16-bit activations or 8-bit weights, else keep float), until the
 * target holds; then try fixes back where the target still holds (the biggest saving first, the most
 * accurate cheaper choice of a group first, within a budget of runs). Every configuration tried is
 * recorded (size against metric: the Pareto plot); the answer is the smallest file among those that
 * meet the target.
 */
import { variantFields, methodVariant } from '../../core/methods';
import { activationConfigFor, type QuantConfig } from '../../core/config';
import { applyGroupChoice, type GroupChoice, type QuantGroup } from '../../onnx/groups';
import { checkCancelled } from './cancelled';
import { giveBack } from './giveBack';
import { describeState, fixChoices, fixLabel, groupState, orderByOwnError, wideOf } from './groupFixes';
import { boundFor, meets, targetValue, type Target } from './target';
import { better, isPartial, type Change, type Measure, type Trial, type TuneResult } from './trial';
import { settingKey, settingOf, type Progress, type TuneContext } from './tuneContext';

const METHODS = ['minmax', 'percentile', 'entropy', 'mse'] as const;
/** Above this many groups, only the worst by their own error are ranked by runs (static QDQ). */
const MAX_RANKED_BY_RUNS = 32;
/** Groups whose calibration method the search tries one by one (three tries each). */
const MAX_METHOD_GROUPS = 6;
/** The same where activations alone cannot meet the target (some weights must stay float). */
const MAX_METHOD_GROUPS_WEIGHTS_BOUND = 2;
/**
 * Held-out samples (the hardest under the start) that rank groups by runs where there are more than
 * MAX_RANKED_BY_RUNS: an order, not a verdict, so a screening run is enough for it. At most half the
 * held-out set, so that it screens (the CLI's default split of 8 samples holds 2 out: the hardest 1).
 */
const RANKING_SAMPLES = 2;

export async function tune(
  ctx: TuneContext,
  target: Target,
  opts: { signal?: AbortSignal; onProgress?: (p: Progress) => void } = {},
): Promise<TuneResult> {
  const t0 = performance.now();
  const runs0 = ctx.evaluator.runs;
  const form = ctx.baseConfig.form ?? { kind: 'qdq' };
  const floatTask = ctx.evaluator.floatTask;
  const trials: Trial[] = [];
  const all = ctx.evaluator.sampleCount;
  // configurations with the same switchboard setting have the same metrics: measured once
  const seen = new Map<string, Trial>();
  let total = 1 + 4 + 3 * ctx.groups.length;
  const progress = (phase: string) => opts.onProgress?.({ phase, done: trials.length, total });
  const reusable = (hit: Trial, how: Measure): boolean => {
    if (!isPartial(hit, all)) return true;
    if (how === null) return false;
    if ('screen' in how) return hit.metrics.atMost === undefined && hit.metrics.samples === how.screen;
    // stopped by a bound: it stays below any higher one
    const below = 'meet' in how ? target.value : how.beat;
    return hit.metrics.atMost !== undefined && hit.metrics.atMost < below;
  };
  // floor: a trial measured on every sample that this configuration quantizes no less (EvalOptions.floor)
  const record = async (
    config: QuantConfig,
    label: string,
    phase: string,
    how: Measure = null,
    floor?: Trial,
  ): Promise<Trial> => {
    checkCancelled(opts.signal, 'tuning');
    const { setting, bytes } = settingOf(ctx, config);
    const key = settingKey(setting);
    const hit = seen.get(key);
    if (hit && reusable(hit, how)) return hit;
    const metrics = await ctx.evaluator.evaluate(setting, opts.signal, {
      bound: how === null || 'screen' in how ? undefined : boundFor(target, 'meet' in how ? target.value : how.beat),
      samples: how !== null && 'screen' in how ? how.screen : undefined,
      floor: floor && !isPartial(floor, all) ? floor.metrics : undefined,
    });
    const full = metrics.samples >= all;
    const t: Trial = {
      id: trials.length,
      label,
      config,
      metrics,
      value:
        metrics.atMost ?? (full || target.metric !== 'task-drop' ? targetValue(target, metrics, floatTask) : -Infinity),
      bytes,
      meets: full && meets(target, metrics, floatTask),
    };
    trials.push(t);
    seen.set(key, t);
    progress(phase);
    return t;
  };

  const base = await record(ctx.baseConfig, 'start: the chosen settings', 'start');
  // the samples the start gets most wrong first: a bound then stops a bad configuration soonest
  ctx.evaluator.hardestFirst();
  let start = base;
  if (!base.meets) {
    // model-wide moves
    if (form.kind === 'qdq') {
      for (const m of METHODS) {
        const v = methodVariant(m)!;
        const t = await record(
          { ...ctx.baseConfig, activations: { ...ctx.baseConfig.activations, ...variantFields(v) } },
          `${m} everywhere`,
          'model-wide',
          { beat: start.value },
        );
        if (t.bytes <= start.bytes && better(t, start)) start = t;
      }
      const wide = wideOf(ctx.baseConfig.activations.dtype);
      if (ctx.sb.activationDtypes.includes(wide))
        await record(
          { ...start.config, activations: { ...start.config.activations, dtype: wide } },
          `${wide} activations everywhere`,
          'model-wide',
          { meet: true },
        );
    } else if (form.kind === 'weight-only' && form.dtype !== 'int8' && ctx.sb.weightVariants.includes('int8')) {
      await record(
        { ...ctx.baseConfig, form: { ...form, dtype: 'int8', symmetric: true, blockSize: null } },
        'int8 weights everywhere',
        'model-wide',
        { meet: true },
      );
    }
  }
  const changes: Change[] = [];
  // give-back probes a cheaper choice of the same group then met (never chosen over it)
  const superseded = new Set<Trial>();
  if (!start.meets) {
    // sensitivity order: the group whose float version helps most first
    // On a large model (PP-OCRv4 rec's static QDQ has 274 groups, 6.7 s an evaluation on 2 cores) a run
    // per group is most of the time: the groups are first ordered by their activation's own error (its
    // calibration histogram against its range, core/methods/rangeError: no run), and only the worst
    // MAX_RANKED_BY_RUNS are ranked by runs; the rest follow in that order.
    const byProxy = form.kind === 'qdq' && ctx.groups.length > MAX_RANKED_BY_RUNS;
    const order = byProxy ? orderByOwnError(ctx, start.config) : [...ctx.groups];
    const ranked: { g: QuantGroup; t: Trial | null }[] = [];
    for (const g of order.slice(0, byProxy ? MAX_RANKED_BY_RUNS : order.length)) {
      const t = await record(
        applyGroupChoice(start.config, g, { kind: 'float' }),
        `${g.id} kept float`,
        'ranking',
        byProxy && target.metric !== 'task-drop' ? { screen: Math.min(RANKING_SAMPLES, Math.ceil(all / 2)) } : null,
      );
      ranked.push({ g, t });
    }
    ranked.sort((a, b) => (better(a.t!, b.t!) ? -1 : better(b.t!, a.t!) ? 1 : 0));
    for (const g of order.slice(ranked.length)) ranked.push({ g, t: null });
    total = trials.length + 2 * ranked.length + (form.kind === 'qdq' ? 3 * MAX_METHOD_GROUPS : 0);
    // The ceiling of what activations alone can do: every activation float, the weights as chosen. Where
    // it misses the target, some weights must stay float whatever the activations get (PP-OCRv4 rec
    // with int8 weights: top-1 0.977 against 0.99), so neither a range method per group nor a wider or
    // float activation level can meet it: the search tries the range methods on fewer groups (what they
    // gain still shortens the float prefix) and goes straight to keeping groups float.
    // A probe, not a candidate: it is not recorded as a trial (so never chosen). Written, that file (no
    // activation quantized, weights DQ -> MatMul) is not what onnxruntime runs: at its 'extended'
    // optimization level and above it fuses a weight's DequantizeLinear into the MatMul and quantizes the
    // float activation per tensor at run time (measured on the guard's outlier model: exact at 'basic',
    // 1.0 dB at 'extended'/'all'), which the switchboard does not model.
    let weightsBound = false;
    if (form.kind === 'qdq' && ctx.groups.some((g) => g.tensors.length)) {
      let c = start.config;
      for (const g of ctx.groups) if (g.tensors.length) c = applyGroupChoice(c, g, { kind: 'float-activations' });
      checkCancelled(opts.signal, 'tuning');
      const m = await ctx.evaluator.evaluate(settingOf(ctx, c).setting, opts.signal, { bound: boundFor(target) });
      weightsBound = m.samples < all || !meets(target, m, floatTask);
    }
    // per group, the calibration method (static QDQ): free in size, only the group's range moves.
    // Greedy over the most sensitive groups, each keeping the method that helps it most, until the
    // target holds; what the prefix search below fixes starts from there.
    let seed = start;
    const methodFixes: { g: QuantGroup; choice: GroupChoice }[] = [];
    if (form.kind === 'qdq') {
      const producer = new Map(
        ctx.setting.prepared.graph!.node.flatMap((n) => n.output.map((o) => [o, n.opType] as const)),
      );
      const methodGroups = weightsBound ? MAX_METHOD_GROUPS_WEIGHTS_BOUND : MAX_METHOD_GROUPS;
      for (const { g } of ranked.filter((r) => r.g.tensors.length).slice(0, methodGroups)) {
        const now = activationConfigFor(seed.config, g.tensors[0]!, producer.get(g.tensors[0]!)).method ?? 'minmax';
        let bestHere = seed;
        let bestChoice: GroupChoice | null = null;
        for (const m of METHODS.filter((x) => x !== now)) {
          const choice: GroupChoice = { kind: 'activations', fields: variantFields(methodVariant(m)!) };
          const t = await record(applyGroupChoice(seed.config, g, choice), `${g.id}: ${m} range`, 'methods', {
            beat: bestHere.value,
          });
          if (better(t, bestHere)) [bestHere, bestChoice] = [t, choice];
        }
        if (bestChoice) {
          seed = bestHere;
          methodFixes.push({ g, choice: bestChoice });
        }
        if (seed.meets) break;
      }
    }
    // the smallest prefix of the ranking whose fix meets the target (bisection: a longer prefix fixes
    // more, so the metric grows with it on the whole), with the cheapest fix first, then keeping float
    let current = seed;
    let fixed: { g: QuantGroup; choice: GroupChoice }[] = [...methodFixes];
    const withPrefix = (k: number, pick: (g: QuantGroup) => GroupChoice) => {
      let c = seed.config;
      const f = ranked.slice(0, k).map(({ g }) => ({ g, choice: pick(g) }));
      for (const x of f) c = applyGroupChoice(c, x.g, x.choice);
      return { config: c, fixes: f };
    };
    // each level of fix in turn, cheapest first (a group with fewer choices takes its last: float)
    const levels = Math.max(...ranked.map(({ g }) => fixChoices(ctx, g).length));
    const picks = Array.from({ length: levels }, (_, k) => (g: QuantGroup) => {
      const c = fixChoices(ctx, g);
      return c[Math.min(k, c.length - 1)]!;
    }).slice(weightsBound ? levels - 1 : 0);
    for (const pick of seed.meets ? [] : picks) {
      const all = withPrefix(ranked.length, pick);
      const top = await record(all.config, `the ${ranked.length} groups: ${fixLabel(all.fixes)}`, 'fixing', {
        beat: Math.min(target.value, current.value),
      });
      if (!top.meets) {
        if (better(top, current)) [current, fixed] = [top, [...methodFixes, ...all.fixes]];
        continue;
      }
      let [lo, hi] = [0, ranked.length]; // prefix lo fails, hi meets
      let best = top;
      let bestFixes = all.fixes;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        const p = withPrefix(mid, pick);
        // a shorter prefix fixes fewer groups: it loses at least what the longer one (best) loses
        const t = await record(
          p.config,
          `the ${mid} most sensitive groups: ${fixLabel(p.fixes)}`,
          'fixing',
          { meet: true },
          best,
        );
        if (t.meets) [hi, best, bestFixes] = [mid, t, p.fixes];
        else lo = mid;
      }
      [current, fixed] = [best, [...methodFixes, ...bestFixes]];
      break;
    }
    // cheaper choices back, least sensitive fix first, where the target still holds (a few tries)
    if (current.meets) current = await giveBack(ctx, current, fixed, runs0, record, superseded);
    const reported = new Set<string>();
    for (const f of fixed) {
      if (reported.has(f.g.id)) continue;
      reported.add(f.g.id);
      const now = groupState(current.config, f.g);
      if (now === groupState(start.config, f.g)) continue;
      changes.push({
        group: f.g.label,
        choice: describeState(current.config, f.g),
        before: start.value,
        after: current.value,
      });
    }
  }
  if (start !== base) changes.unshift({ group: 'model', choice: start.label, before: base.value, after: start.value });
  const meeting = trials.filter((t) => t.meets && !superseded.has(t));
  const measured = trials.filter((t) => !isPartial(t, all));
  const pick = meeting.length
    ? meeting.reduce((a, b) => (b.bytes < a.bytes || (b.bytes === a.bytes && better(b, a)) ? b : a))
    : measured.reduce((a, b) => (better(b, a) ? b : a));
  return {
    target,
    trials,
    chosen: pick.id,
    met: pick.meets,
    changes,
    elapsedMs: performance.now() - t0,
    runs: ctx.evaluator.runs - runs0,
  };
}
