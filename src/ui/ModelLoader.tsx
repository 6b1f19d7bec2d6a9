import { useState } from 'react';
import { loadSample, SAMPLES } from '../state/sample';
import { DropZone } from './DropZone';
import { ErrorBanner } from './ErrorBanner';
import { ModelUrlField } from './ModelUrlField';
import { useApp, useAppStore } from './useApp';

export function ModelLoader() {
  const store = useAppStore();
  const error = useApp((s) => s.modelError);
  const loading = useApp((s) => s.loading);
  const loadStage = useApp((s) => s.loadStage);
  const [busy, setBusy] = useState(false);
  return (
    <section className="card" id="step-load">
      <h2>1 · Model</h2>
      <DropZone
        label="Load model"
        accept=""
        multiple
        folderLabel="Load folder"
        hint="Drop an .onnx file here (with its external data files, or their folder). It is read in this page and never leaves your machine."
        testId="dropzone"
        onFiles={(files) => void store.getState().loadModelFiles(files.map((f) => ({ name: f.name, blob: f })))}
      >
        <span className="or">or</span>
        {(['det', 'rec'] as const).map((id) => (
          <button
            key={id}
            type="button"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              loadSample(store, import.meta.env.BASE_URL, id)
                .catch((e: unknown) =>
                  store.setState({
                    modelError: { code: 'RUNTIME', message: `the sample could not be loaded: ${String(e)}` },
                  }),
                )
                .finally(() => setBusy(false));
            }}
          >
            {`Use the sample: ${SAMPLES[id].title}`}
          </button>
        ))}
      </DropZone>
      {loading && (
        <p data-testid="model-loading">
          Loading the model in the worker: {loadStage ?? 'reading'}…{' '}
          <button type="button" onClick={() => store.getState().cancelModelLoad()}>
            Cancel loading
          </button>
        </p>
      )}
      <ModelUrlField />
      <ErrorBanner error={error} testId="model-error" />
    </section>
  );
}
