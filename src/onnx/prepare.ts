/**
 * Graph preparation before quantization: name every node, move Constant weights into
 * initializers, raise the opset to 13, fold BatchNormalization into the Conv before it. Each step is a named pass; the log says what each did.
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { uniqueNamer } from './graph';
import { foldBatchNorm } from './passes/foldBatchNorm';
import { foldConstants } from './passes/foldConstants';
import { foldConvAffine } from './passes/foldConvAffine';
import { foldKnownIfs } from './passes/foldIf';
import { hoistConstants } from './passes/hoistConstants';
import { upgradeOpset } from './passes/upgradeOpset';
import type { ModelProto } from './proto';

export interface PreparedModel {
  readonly model: ModelProto;
  readonly log: readonly string[];
}

/** Pass: give every unnamed node a unique name (plans and configurations refer to nodes by name). */
export function nameNodes(model: ModelProto): { model: ModelProto; named: number } {
  if (model.graph!.node.every((n) => n.name)) return { model, named: 0 };
  const out = clone(ModelProtoSchema, model);
  const name = uniqueNamer(out.graph!);
  let named = 0;
  for (const n of out.graph!.node) {
    if (n.name) continue;
    n.name = name(`${n.opType}_${n.output[0] ?? named}`);
    named++;
  }
  return { model: out, named };
}

export interface PrepareOptions {
  /** Inputs fixed to a value (Silero VAD's `sr`): Ifs that branch on them are folded. */
  readonly fixedInputs?: Readonly<Record<string, number>>;
}

export function prepareModel(model: ModelProto, opts: PrepareOptions = {}): PreparedModel {
  const log: string[] = [];
  const a0 = nameNodes(model);
  if (a0.named) log.push(`nameNodes: named ${a0.named} nodes`);
  let a = a0;
  if (opts.fixedInputs && Object.keys(opts.fixedInputs).length) {
    const f = foldKnownIfs(a0.model, opts.fixedInputs);
    const fixed = Object.entries(opts.fixedInputs)
      .map(([k, v]) => `${k} = ${v}`)
      .join(', ');
    if (f.folded.length) log.push(`foldKnownIfs: with ${fixed}, folded ${f.folded.join('; ')}`);
    if (f.kept.length)
      log.push(
        `foldKnownIfs: ${f.kept.length} control-flow nodes depend on run-time values and stay (${f.kept.slice(0, 3).join(', ')}${f.kept.length > 3 ? ', …' : ''}); tensors inside them are not calibrated`,
      );
    a = { model: nameNodes(f.model).model, named: 0 };
  }
  const b = hoistConstants(a.model);
  if (b.hoisted) log.push(`hoistConstants: moved ${b.hoisted} Constant nodes into initializers`);
  const bf = foldConstants(b.model);
  if (bf.folded) log.push(`foldConstants: computed ${bf.folded} nodes whose inputs are all constants`);
  const c = upgradeOpset(bf.model, 13);
  if (c.from !== c.to) log.push(`upgradeOpset: opset ${c.from} → ${c.to}, ir_version ${c.model.irVersion}`);
  const d = foldBatchNorm(c.model);
  if (d.folded) log.push(`foldBatchNorm: folded ${d.folded} BatchNormalization nodes into their Conv`);
  const e = foldConvAffine(d.model);
  if (e.folded) log.push(`foldConvAffine: folded ${e.folded} scalar Mul/Add nodes into their Conv`);
  return { model: e.model, log };
}
