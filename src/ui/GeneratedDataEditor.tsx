/** The calibration-data panel's "Generate data…" editor: a distribution per model input, dynamic dimensions, sample count. */
import { defaultGenerated, dimsNeedingValues, symbolicDims } from '../data/buildSamples';
import { formatShape } from './format';
import { useApp, useAppStore } from './useApp';

export function GeneratedEditor() {
  const store = useAppStore();
  const model = useApp((s) => s.model);
  const generated = useApp((s) => s.generated);
  const dimValues = useApp((s) => s.dimValues);
  const count = useApp((s) => s.generatedCount);
  if (!model) return null;
  const inputs = model.summary.inputs;
  const dims = symbolicDims(inputs);
  const missing = dimsNeedingValues(inputs, dimValues);
  return (
    <div data-testid="generated-editor">
      {inputs.map((input) => {
        const g = generated[input.name] ?? defaultGenerated(input);
        const set = (p: Partial<typeof g>) => store.getState().setGenerated(input.name, { ...g, ...p });
        return (
          <div className="row" key={input.name}>
            <code>{input.name}</code>{' '}
            <span className="muted">
              {input.dtype} {formatShape(input.shape)}
            </span>
            <select
              aria-label={`Distribution for ${input.name}`}
              value={g.dist}
              onChange={(e) => set({ dist: e.target.value as typeof g.dist })}
            >
              <option value="normal">normal (mean, std)</option>
              <option value="uniform">uniform [a, b)</option>
              <option value="constant">constant</option>
            </select>
            <input
              aria-label={`a for ${input.name}`}
              className="num"
              type="number"
              value={g.a}
              onChange={(e) => set({ a: Number(e.target.value) })}
            />
            {g.dist !== 'constant' && (
              <input
                aria-label={`b for ${input.name}`}
                className="num"
                type="number"
                value={g.b}
                onChange={(e) => set({ b: Number(e.target.value) })}
              />
            )}
          </div>
        );
      })}
      {dims.length > 0 && (
        <div className="row">
          <span className="muted">Dynamic dimensions:</span>
          {dims.map((d) => (
            <label key={d}>
              {d}{' '}
              <input
                aria-label={`Value of ${d}`}
                className="num"
                type="number"
                min={1}
                value={dimValues[d] ?? ''}
                placeholder="?"
                onChange={(e) => store.getState().setDimValue(d, Number(e.target.value))}
              />
            </label>
          ))}
        </div>
      )}
      <div className="row">
        <label>
          Samples{' '}
          <input
            aria-label="Generated sample count"
            className="num"
            type="number"
            min={1}
            defaultValue={count}
            id="gen-count"
          />
        </label>
        <button
          type="button"
          disabled={missing.length > 0}
          onClick={() =>
            store
              .getState()
              .useGeneratedData(
                Math.max(1, Number((document.getElementById('gen-count') as HTMLInputElement).value) || 1),
              )
          }
        >
          Use generated data
        </button>
      </div>
      {missing.length > 0 && (
        <p className="muted small" data-testid="generated-missing-dims">
          Give {missing.join(' and ')} a value first: the model leaves {missing.length > 1 ? 'them' : 'it'} open, and
          generated data needs a size.
        </p>
      )}
    </div>
  );
}
