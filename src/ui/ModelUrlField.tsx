/**
 * A model by URL: the field (and `?model=`, read at start in main.tsx) takes a model file's URL or a
 * repository's base URL; a repository's variants are offered, the chosen one streams into the
 * browser's storage with progress and Cancel, and the address keeps `?model=` so a reload opens the
 * same model from storage without fetching it again.
 */
import { useState } from 'react';
import { ErrorBanner } from './ErrorBanner';
import { formatBytes } from './format';
import { useApp, useAppStore } from './useApp';

/** Keep the URL in the address (without a reload), so reloading or sharing the page opens it again. */
function rememberInAddress(url: string): void {
  const here = new URL(window.location.href);
  here.searchParams.set('model', url);
  window.history.replaceState(null, '', here.href);
}

export function ModelUrlField() {
  const store = useAppStore();
  const remote = useApp((s) => s.remote);
  const [text, setText] = useState(remote.input);
  const busy = remote.status === 'probing' || remote.status === 'fetching';
  const p = remote.progress;
  const pct = p?.total ? Math.round((100 * p.loaded) / p.total) : 0;
  return (
    <div className="model-url" data-testid="model-url">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!text.trim()) return;
          rememberInAddress(text.trim());
          void store.getState().openModelUrl(text);
        }}
      >
        <input
          type="text"
          aria-label="Model URL"
          placeholder="https://…/model.onnx, or a repository's base URL (transformers.js layout)"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" disabled={busy}>
          Open URL
        </button>
      </form>
      {remote.status === 'probing' && <p data-testid="model-url-status">Looking for models under {remote.input}…</p>}
      {remote.status === 'choosing' && (
        <div data-testid="model-variants">
          <p>Models found there: pick one (it is fetched with its external data and kept in this browser).</p>
          <ul>
            {remote.variants.map((v) => (
              <li key={v.url}>
                <button
                  type="button"
                  data-testid="model-variant"
                  onClick={() => {
                    rememberInAddress(v.url);
                    void store.getState().fetchModelVariant(v.url);
                  }}
                >
                  {v.file}
                </button>{' '}
                {v.label}
                {v.size !== null && <span className="muted"> · {formatBytes(v.size)}</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
      {remote.status === 'fetching' && p && (
        <div data-testid="model-fetch">
          <div
            className="progress"
            role="progressbar"
            aria-label="Fetching the model"
            aria-valuenow={pct}
            aria-valuemin={0}
            aria-valuemax={100}
          >
            <div style={{ width: `${pct}%` }} />
            <span>
              {p.file.slice(p.file.lastIndexOf('/') + 1)}: {formatBytes(p.loaded)}
              {p.total !== null && ` of ${formatBytes(p.total)}`}
            </span>
          </div>
          <button type="button" onClick={() => store.getState().cancelModelFetch()}>
            Cancel fetch
          </button>
        </div>
      )}
      {remote.status === 'done' && (
        <p data-testid="model-url-status" data-from-cache={remote.fromCache}>
          {remote.fromCache
            ? 'Opened from this browser’s storage: nothing was fetched.'
            : 'Fetched, and kept in this browser’s storage for the next visit.'}
        </p>
      )}
      {remote.status === 'cancelled' && <p data-testid="model-url-status">The fetch was cancelled.</p>}
      <ErrorBanner error={remote.status === 'error' ? remote.error : null} testId="model-url-error" />
    </div>
  );
}
