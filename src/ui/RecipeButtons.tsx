// RecipeButtons: download the last export's recipe, or load one to restore every choice.
import { ErrorBanner } from './ErrorBanner';
import { download } from './download';
import { useApp, useAppStore } from './useApp';

/**
 * The recipe: download what the last export was built from (choices, data description, float32
 * ranges), or load one to restore every choice (and export static QDQ from its ranges).
 */
export function RecipeButtons() {
  const store = useAppStore();
  const exported = useApp((s) => s.exported);
  const error = useApp((s) => s.recipeError);
  const recipeRanges = useApp((s) => s.recipeRanges);
  return (
    <span className="recipe">
      {' '}
      <button
        type="button"
        disabled={!exported}
        onClick={async () => {
          const text = await store.getState().downloadRecipeText();
          const fileName = exported!.fileName.replace(/\.onnx$/, '.recipe.json');
          download(fileName, new TextEncoder().encode(text));
        }}
      >
        Download recipe
      </button>{' '}
      <label className="file-button">
        Load recipe
        <input
          type="file"
          accept=".json,application/json"
          aria-label="Load recipe"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) await store.getState().loadRecipe(await f.text());
          }}
        />
      </label>
      {recipeRanges && !error && (
        <span className="muted" data-testid="recipe-loaded">
          {' '}
          recipe loaded: every choice restored, {recipeRanges.size} ranges ready
        </span>
      )}
      <ErrorBanner error={error} testId="recipe-error" />
    </span>
  );
}
