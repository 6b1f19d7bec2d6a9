/**
 * A scalar input that every sample gives the same value, where an If may branch on it (Silero VAD's
 * `sr` = 16000), is fixed automatically: the model is prepared with that value and the branch folds,
 * so what sits inside it can be calibrated. A value the user fixed (--fix, the page's control) wins.
 */
import type { SampleSpec } from './samples';

function scalarValue(spec: SampleSpec['inputs'][string] | undefined): number | null {
  if (!spec) return null;
  if (spec.kind === 'generated') {
    const g = spec.gen;
    const n = g.dims.reduce((a, b) => a * b, 1);
    return n === 1 && g.dist === 'constant' ? Math.floor(g.a) : null;
  }
  if (spec.kind !== 'tensor' || spec.tensor.data.length !== 1) return null;
  return Number(spec.tensor.data[0]);
}

/** Of the candidates, those every sample gives one and the same scalar value, with that value. */
export function constantScalarInputs(
  samples: readonly SampleSpec[],
  candidates: readonly string[],
  alreadyFixed: Readonly<Record<string, number>> = {},
): Record<string, number> {
  const out: Record<string, number> = {};
  if (!samples.length) return out;
  for (const name of candidates) {
    if (alreadyFixed[name] !== undefined) continue;
    const values = samples.map((s) => scalarValue(s.inputs[name]));
    const first = values[0];
    if (first === null || first === undefined || !Number.isInteger(first)) continue;
    if (values.every((v) => v === first)) out[name] = first;
  }
  return out;
}

/** The note said when inputs were fixed automatically. */
export function autoFixNote(fixed: Readonly<Record<string, number>>): string | null {
  const e = Object.entries(fixed);
  if (!e.length) return null;
  return `fixed ${e.map(([k, v]) => `${k} = ${v}`).join(', ')} automatically: every sample gives ${e.length === 1 ? 'it' : 'each'} that value and the model branches on ${e.length === 1 ? 'it' : 'them'} (--fix overrides)`;
}
