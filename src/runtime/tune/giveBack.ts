/**
 * Tuning's give-back phase: once the target holds, cheaper choices back where it still holds (the
 * biggest saving first, the most accurate cheaper choice of a group first, within a budget of runs).
 */
import { applyGroupChoice, choiceLabel, type GroupChoice, type QuantGroup } from '../../onnx/groups';
import type { QuantConfig } from '../../core/config';
import { fixChoices } from './groupFixes';
import type { Measure, Trial } from './trial';
import { settingOf, type TuneContext } from './tuneContext';

/** Fixes tried back, the biggest saving first, and the least saving worth a try (of the float file). */
const MAX_TRIM = 16;
const MIN_TRIM_SAVING = 0.002;

/** Measures a configuration once (search.ts's `record`): the trial, reused where already measured. */
export type RecordTrial = (
  config: QuantConfig,
  label: string,
  phase: string,
  how?: Measure,
  floor?: Trial,
) => Promise<Trial>;

/**
 * Cheaper choices back, least sensitive fix first, where the target still holds (a few tries), from
 * `current` (which meets it); returns the new answer. A probe a cheaper choice of the same group then
 * met goes into `superseded` (never chosen over it). runs0: the evaluator's runs when the search began.
 */
export async function giveBack(
  ctx: TuneContext,
  met: Trial,
  fixed: { g: QuantGroup; choice: GroupChoice }[],
  runs0: number,
  record: RecordTrial,
  superseded: Set<Trial>,
): Promise<Trial> {
  let current = met;
  // only fixes that hold weights can give bytes back (an activation's dtype does not change the
  // file's size), so those alone are tried
  const weighted = new Set(ctx.sb.weightNodes.map((w) => w.node));
  // the biggest saving first (least sensitive first among equals), so that the tries a search can
  // afford go where the file shrinks most
  const saving = (f: { g: QuantGroup }) =>
    current.bytes - settingOf(ctx, applyGroupChoice(current.config, f.g, { kind: 'default' })).bytes;
  const trimmable = [...fixed]
    .reverse()
    .filter((f) => f.g.nodes.some((n) => weighted.has(n)))
    .map((f) => ({ f, saved: saving(f) }))
    .filter((x) => x.saved > MIN_TRIM_SAVING * ctx.floatBytes)
    .sort((a, b) => b.saved - a.saved)
    .map((x) => x.f);
  // The budget: giving back may cost at most as many sample runs as the search before it (every run
  // is one held-out sample through the same switchboard session, so runs measure time: on the 176 MB
  // 1024x1024 model 5.6 s each on 2 shared cores), so it at most doubles the search.
  const trimBudget = ctx.evaluator.runs - runs0;
  const trimRuns0 = ctx.evaluator.runs;
  for (const f of trimmable.slice(0, MAX_TRIM)) {
    if (ctx.evaluator.runs - trimRuns0 >= trimBudget) break;
    // the cheaper choices that give bytes back (the estimate needs no run), cheapest first:
    // default, then wider activations, then float activations on quantized weights
    const options = [{ kind: 'default' } as GroupChoice, ...fixChoices(ctx, f.g)]
      .filter((c) => c.kind !== 'float' && c.kind !== f.choice.kind)
      .map((c) => ({ c, config: applyGroupChoice(current.config, f.g, c) }))
      .filter((o) => settingOf(ctx, o.config).bytes < current.bytes);
    if (!options.length) continue;
    // The most accurate of them first (the last: it quantizes least): where it misses the target the
    // others, which quantize the same weights and more, miss it too, and the group is passed after one
    // try instead of three. Each is measured with the current answer as its floor (it quantizes no
    // less): on 2 held-out samples, one at the target's margin is rejected after 1 run.
    const probe = options[options.length - 1]!;
    const p = await record(probe.config, `${f.g.id}: ${choiceLabel(probe.c)}`, 'trimming', { meet: true }, current);
    if (!p.meets) continue;
    let next = p;
    for (const o of options.slice(0, -1)) {
      const t = await record(o.config, `${f.g.id}: ${choiceLabel(o.c)}`, 'trimming', { meet: true }, p);
      if (t.meets) {
        // the cheaper choice met: the probe is not the answer (it stays on the plot)
        superseded.add(p);
        next = t;
        break;
      }
    }
    current = next;
  }
  return current;
}
