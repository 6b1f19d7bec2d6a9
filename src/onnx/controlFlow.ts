/**
 * What control flow hides from calibration: the scalar integer inputs an If or Loop may branch on
 * (candidates to fix, as Silero VAD's `sr`), and, when the top level has nothing to calibrate, why, in
 * words a user can act on.
 */
import { ACTIVATION_OPS, WEIGHTED_OPS, type QuantPlan } from './plan';
import { DT } from './tensor';
import { valueInfoElemType, valueInfoShape, type GraphProto, type ModelProto, type NodeProto } from './proto';

const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan']);

/** Scalar integer graph inputs of a model with control flow (If, Loop): values a branch may depend on. */
export function fixableInputs(model: ModelProto): string[] {
  const g = model.graph!;
  if (!g.node.some((n) => n.opType === 'If' || n.opType === 'Loop')) return [];
  const inits = new Set(g.initializer.map((t) => t.name));
  return g.input
    .filter(
      (v) =>
        !inits.has(v.name) &&
        (valueInfoShape(v)?.length ?? -1) === 0 &&
        [DT.INT64 as number, DT.INT32 as number].includes(valueInfoElemType(v) ?? 0),
    )
    .map((v) => v.name);
}

function subgraphs(n: NodeProto): GraphProto[] {
  return n.attribute.flatMap((a) => [...(a.g ? [a.g] : []), ...a.graphs]);
}

/** Quantizable nodes (by op type) inside the subgraphs of a node, at any depth. */
function quantizableInside(n: NodeProto): number {
  let count = 0;
  for (const g of subgraphs(n))
    for (const m of g.node) {
      if (WEIGHTED_OPS.has(m.opType) || ACTIVATION_OPS.has(m.opType)) count++;
      count += quantizableInside(m);
    }
  return count;
}

/**
 * Why a model has nothing to calibrate at its top level, in words; null when it has something.
 * `fixable` are the inputs a fix could fold control flow on (fixableInputs of the original model);
 * `howToFix` says how the caller's user fixes one (the command line's flag by default).
 */
export function whyNothingToCalibrate(
  prepared: ModelProto,
  plan: QuantPlan,
  fixable: readonly string[],
  fixed: Readonly<Record<string, number>> = {},
  howToFix: (input: string) => string = (input) =>
    `e.g. --fix ${input}=VALUE, or calibration samples that all give it one value`,
): string | null {
  if (plan.activations.length) return null;
  const g = prepared.graph!;
  const hidden = g.node
    .filter((n) => CONTROL_FLOW.has(n.opType))
    .map((n) => ({ name: n.name || n.opType, count: quantizableInside(n) }))
    .filter((x) => x.count > 0);
  const open = fixable.filter((f) => fixed[f] === undefined);
  if (hidden.length) {
    const total = hidden.reduce((a, b) => a + b.count, 0);
    const names = hidden
      .slice(0, 3)
      .map((h) => h.name)
      .join(', ');
    const how = open.length
      ? ` Fix the input it branches on (${open.join(', ')}: ${howToFix(open[0]!)}) so the branch folds into the graph.`
      : ' Those branches depend on values known only at run time, so Quantscope leaves them float.';
    return `nothing to calibrate at the top level: all ${total} quantizable nodes are inside control flow (${names}${hidden.length > 3 ? ', …' : ''}), and tensors inside a branch are not calibrated.${how}`;
  }
  if (plan.floatNodes.length)
    return `nothing to calibrate: the ${plan.floatNodes.length} quantizable nodes all stay float (${plan.floatNodes[0]!.name}: ${plan.floatNodes[0]!.reason}${plan.floatNodes.length > 1 ? ', …' : ''})`;
  return `nothing to calibrate: the model has none of the ops static QDQ quantizes (${[...WEIGHTED_OPS, ...ACTIVATION_OPS].join(', ')})`;
}
