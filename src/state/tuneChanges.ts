/**
 * What a tuned configuration changed against the one tuning started from, read from the two
 * configurations themselves: the model-wide settings, then each tensor's and node's override. The
 * page lists this for the configuration in use (the search's choice or a point the user picked), so
 * the list always describes what Export writes.
 */
import type { QuantConfig } from '../core/config';

export interface ConfigChange {
  /** "model", a tensor or a node. */
  readonly where: string;
  readonly kind: 'model' | 'tensor' | 'node';
  readonly choice: string;
}

const show = (v: unknown): string =>
  v === undefined ? 'default' : typeof v === 'object' ? JSON.stringify(v) : String(v);

/** "dtype int8 → int16, method minmax → mse": the fields of two flat settings that differ. */
function fieldChanges(a: object | undefined, b: object | undefined): string[] {
  const x = (a ?? {}) as Record<string, unknown>;
  const y = (b ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(x), ...Object.keys(y)])]
    .filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]))
    .map((k) => `${k} ${show(x[k])} → ${show(y[k])}`);
}

function describeOverride(o: { activations?: object; weights?: object; exclude?: boolean } | undefined): string {
  if (!o) return 'back to the model-wide settings';
  if (o.exclude) return 'kept float';
  const parts: string[] = [];
  const fields = (label: string, v: object | undefined) => {
    const set = Object.entries(v ?? {}).filter(([, x]) => x !== undefined);
    if (set.length) parts.push(`${label} ${set.map(([k, x]) => `${k} ${show(x)}`).join(', ')}`);
  };
  fields('activations', o.activations);
  fields('weights', o.weights);
  return parts.join('; ') || 'as the model';
}

export function configChanges(start: QuantConfig, now: QuantConfig): ConfigChange[] {
  const out: ConfigChange[] = [];
  const model = [
    ...fieldChanges(start.activations, now.activations).map((c) => `activations ${c}`),
    ...fieldChanges(start.weights, now.weights).map((c) => `weights ${c}`),
    ...(JSON.stringify(start.form) !== JSON.stringify(now.form)
      ? [`form ${show(start.form)} → ${show(now.form)}`]
      : []),
  ];
  if (model.length) out.push({ where: 'model', kind: 'model', choice: model.join('; ') });
  for (const [kind, a, b] of [
    ['tensor', start.tensors, now.tensors],
    ['node', start.nodes, now.nodes],
  ] as const) {
    for (const k of [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])]) {
      const before = a?.[k];
      const after = b?.[k];
      if (JSON.stringify(before) === JSON.stringify(after)) continue;
      out.push({ where: k, kind, choice: describeOverride(after) });
    }
  }
  return out;
}
