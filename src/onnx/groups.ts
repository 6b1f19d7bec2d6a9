/**
 * Quantization groups: the units a sensitivity sweep ranks and a tuning search changes. In static
 * QDQ a group is one quantized activation tensor with the quantized nodes that produce it (a Conv and
 * the Relu that shares its range count as one, plan.shared); a weighted node whose output stays float
 * (a graph output) is a group of its own. In weight-only forms a group is one node's weight.
 *
 * A choice for a group lands in the one configuration type (core/config.ts) as per-tensor and
 * per-node overrides, so an export, a recipe and the explorer all see it like a hand-made choice.
 */
import type { ActivationConfig, QuantConfig } from '../core/config';
import type { IntDType } from '../core/dtype';
import type { QuantPlan } from './plan';
import { valueInfoShape, type ModelProto } from './proto';

export interface QuantGroup {
  /** The activation tensor, or the node name for a weight-only group. */
  readonly id: string;
  readonly label: string;
  readonly tensors: readonly string[];
  readonly nodes: readonly string[];
}

export function qdqGroups(prepared: ModelProto, plan: QuantPlan): QuantGroup[] {
  const outputOf = new Map(prepared.graph!.node.map((n) => [n.name, n.output[0] ?? '']));
  const byTensor = new Map<string, string[]>();
  for (const n of plan.nodes) {
    const out = outputOf.get(n.name) ?? '';
    const t = plan.shared.get(out) ?? out;
    byTensor.set(t, [...(byTensor.get(t) ?? []), n.name]);
  }
  const assigned = new Set<string>();
  const groups: QuantGroup[] = [];
  for (const t of plan.activations) {
    const nodes = byTensor.get(t) ?? [];
    for (const n of nodes) assigned.add(n);
    groups.push({ id: t, label: nodes.length ? `${nodes.join(', ')} → ${t}` : t, tensors: [t], nodes });
  }
  for (const n of plan.nodes)
    if ((n.weight || n.constantInputs.length) && !assigned.has(n.name))
      groups.push({ id: n.name, label: n.name, tensors: [], nodes: [n.name] });
  return groups;
}

export function weightGroups(nodes: readonly string[]): QuantGroup[] {
  return nodes.map((n) => ({ id: n, label: n, tensors: [], nodes: [n] }));
}

/** What a search may set a group to. */
export type GroupChoice =
  | { readonly kind: 'float' }
  /** The group's activations kept float, its nodes' weights still quantized (a float op on dequantized weights). */
  | { readonly kind: 'float-activations' }
  /** Back to the model-wide settings: the group's overrides removed. */
  | { readonly kind: 'default' }
  | { readonly kind: 'activations'; readonly fields: Partial<ActivationConfig> }
  | { readonly kind: 'weights'; readonly dtype: IntDType; readonly blockSize: number | null };

export function choiceLabel(c: GroupChoice): string {
  switch (c.kind) {
    case 'float':
      return 'kept float';
    case 'float-activations':
      return 'activations kept float, weights quantized';
    case 'default':
      return 'the model-wide settings';
    case 'activations':
      return Object.entries(c.fields)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ');
    case 'weights':
      return `weights ${c.dtype}${c.blockSize ? ` blocks of ${c.blockSize}` : ' per channel'}`;
  }
}

/** The configuration with a group set to a choice (per-tensor and per-node overrides). */
export function applyGroupChoice(config: QuantConfig, group: QuantGroup, choice: GroupChoice): QuantConfig {
  const tensors = { ...(config.tensors ?? {}) };
  const nodes = { ...(config.nodes ?? {}) };
  const float = choice.kind === 'float';
  if (choice.kind === 'default') {
    for (const t of group.tensors) delete tensors[t];
    for (const n of group.nodes) delete nodes[n];
    return { ...config, tensors, nodes };
  }
  for (const t of group.tensors) {
    const { exclude: _, ...rest } = tensors[t] ?? {};
    void _;
    if (float || choice.kind === 'float-activations') tensors[t] = { ...rest, exclude: true };
    else if (choice.kind === 'activations')
      tensors[t] = { ...rest, activations: { ...rest.activations, ...choice.fields } };
    else if (Object.keys(rest).length) tensors[t] = rest;
    else delete tensors[t];
  }
  for (const n of group.nodes) {
    const { exclude: _, ...rest } = nodes[n] ?? {};
    void _;
    if (float) nodes[n] = { ...rest, exclude: true };
    else if (choice.kind === 'weights')
      nodes[n] = { ...rest, weights: { ...rest.weights, dtype: choice.dtype, blockSize: choice.blockSize } };
    else if (Object.keys(rest).length) nodes[n] = rest;
    else delete nodes[n];
  }
  return { ...config, tensors, nodes };
}

/**
 * Outputs fed back into inputs (recurrent state): an output with the shape of an input whose name
 * starts with the input's (Silero's stateN and state). These never count towards a target.
 */
export function recurrentOutputs(model: ModelProto): Set<string> {
  const g = model.graph!;
  const out = new Set<string>();
  for (const o of g.output) {
    const os = valueInfoShape(o);
    for (const i of g.input) {
      const is = valueInfoShape(i);
      const sameShape = os && is && os.length === is.length && os.every((d, k) => d === is[k]);
      if (sameShape && o.name !== i.name && (o.name.startsWith(i.name) || i.name.startsWith(o.name))) out.add(o.name);
    }
  }
  return out;
}
