/**
 * Every edit the page makes to the quantization configuration, as data, and the one pure function that
 * applies it. The store's `editConfig` action is the only caller in the page, so the same edit made from
 * a control, a test or a tuning result gives the same configuration (and the recipe records it).
 *
 * Overrides merge into what a level already holds; a field set to `undefined` removes that field's
 * override (the level above decides again), as `defined()` in config.ts reads it.
 */
import type { ActivationConfig, ExportForm, Override, QuantConfig, WeightConfig } from './config';
import type { Convention } from './conventions';
import { applyPreset, type PytorchPreset } from './presets';

export type ConfigEdit =
  /** Model-level activation choices (dtype, symmetry, method and its parameters, reduce range). */
  | { readonly kind: 'activations'; readonly set: Partial<ActivationConfig> }
  /** Model-level weight choices (dtype, granularity, block size, rounding algorithm). */
  | { readonly kind: 'weights'; readonly set: Partial<WeightConfig> }
  /** Whose scale and zero-point rules, for activations and weights together. */
  | { readonly kind: 'convention'; readonly convention: Convention }
  /** A PyTorch backend's default qconfig (core/presets.ts). */
  | { readonly kind: 'preset'; readonly preset: PytorchPreset }
  /** Per op type: keep float, weight and activation overrides. */
  | { readonly kind: 'op-type'; readonly opType: string; readonly set: Override }
  /** Per tensor: activation overrides and keep float; `activations: null` removes the tensor's overrides. */
  | {
      readonly kind: 'tensor';
      readonly tensor: string;
      readonly activations: Partial<ActivationConfig> | null;
      readonly exclude?: boolean;
    }
  /** Per node: weight overrides and keep float. */
  | {
      readonly kind: 'node';
      readonly node: string;
      readonly weights?: Partial<WeightConfig>;
      readonly exclude?: boolean;
    }
  /** The form of the exported file. */
  | { readonly kind: 'form'; readonly form: ExportForm };

/** `a` with `b`'s fields over it; fields `b` sets to undefined are removed. */
function merge<T extends object>(a: T | undefined, b: Partial<T> | undefined): T {
  const out: Record<string, unknown> = { ...a, ...b };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as T;
}

function mergeOverride<T extends Override>(a: T | undefined, b: Override): T {
  return merge(a, {
    ...(b.exclude !== undefined ? { exclude: b.exclude } : {}),
    ...(b.activations ? { activations: merge(a?.activations, b.activations) } : {}),
    ...(b.weights ? { weights: merge(a?.weights, b.weights) } : {}),
  } as Partial<T>);
}

export function applyConfigEdit(c: QuantConfig, edit: ConfigEdit): QuantConfig {
  switch (edit.kind) {
    case 'activations':
      return { ...c, activations: merge(c.activations, edit.set) };
    case 'weights':
      return { ...c, weights: merge(c.weights, edit.set) };
    case 'convention':
      return {
        ...c,
        activations: { ...c.activations, convention: edit.convention },
        weights: { ...c.weights, convention: edit.convention },
      };
    case 'preset':
      return applyPreset(c, edit.preset);
    case 'op-type':
      return { ...c, opTypes: { ...c.opTypes, [edit.opType]: mergeOverride(c.opTypes?.[edit.opType], edit.set) } };
    case 'tensor': {
      const tensors = { ...c.tensors };
      if (edit.activations === null) delete tensors[edit.tensor];
      else
        tensors[edit.tensor] = mergeOverride(tensors[edit.tensor], {
          activations: edit.activations,
          exclude: edit.exclude,
        });
      return { ...c, tensors };
    }
    case 'node':
      return {
        ...c,
        nodes: {
          ...c.nodes,
          [edit.node]: mergeOverride(c.nodes?.[edit.node], { weights: edit.weights, exclude: edit.exclude }),
        },
      };
    case 'form':
      return { ...c, form: edit.form };
  }
}
