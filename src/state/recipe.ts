/**
 * The page's recipe: written from what the last export used (its choices and exactly its ranges), and
 * read back to restore every choice. The model is named by the sha256 of the file the user loaded.
 */
import { QuantscopeError } from '../core/errors';
import { buildRecipe as buildRecipeOf, parseRecipe, rangesFromRecipe, type Recipe } from '../core/recipe';
import { HISTOGRAM_BINS } from '../core/config';
import type { AppState, LoadedModel } from './types';

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function buildRecipe(state: AppState): Promise<Recipe> {
  const { model, exported } = state;
  if (!model || !exported)
    throw new QuantscopeError('NO_STATISTICS', 'export the model first: the recipe records what the export used');
  const calibrated = exported.ranges !== null;
  return buildRecipeOf({
    model: { fileName: model.fileName, sha256: await sha256Hex(model.bytes), bytes: model.bytes.length },
    preparation: { fixedInputs: model.fixedInputs, log: model.summary.preparation },
    calibration: calibrated
      ? {
          mode: state.calibrationMode,
          bins: HISTOGRAM_BINS,
          backend: state.calibration.session?.backend ?? state.backend,
          data: {
            kind: state.dataKind,
            count:
              state.dataKind === 'images'
                ? state.images.length
                : state.dataKind === 'tensors'
                  ? state.tensorSamples.length
                  : state.generatedCount,
            preprocessing:
              state.dataKind === 'images' ? { ...(state.presetOverride ?? model.imageInput?.preset ?? {}) } : null,
            ...(state.dataKind === 'generated'
              ? { generated: { ...state.generated }, dimValues: { ...state.dimValues } }
              : {}),
          },
        }
      : null,
    config: exported.config,
    ranges: exported.ranges,
  });
}

/** Check a recipe against the loaded model: the same file, by sha256. */
export async function checkRecipeModel(recipe: Recipe, model: LoadedModel, force = false): Promise<void> {
  const sha = await sha256Hex(model.bytes);
  if (sha !== recipe.model.sha256 && !force) {
    throw new QuantscopeError(
      'BAD_DATA',
      `the recipe is for ${recipe.model.fileName} (sha256 ${recipe.model.sha256.slice(0, 12)}…), not ${model.fileName} (sha256 ${sha.slice(0, 12)}…)`,
    );
  }
}

export { parseRecipe, rangesFromRecipe };
