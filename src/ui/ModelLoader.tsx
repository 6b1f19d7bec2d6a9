import { useState } from 'react';
import { loadSample, SAMPLES } from '../state/sample';
import { DropZone } from './DropZone';
import { ErrorBanner } from './ErrorBanner';
import type { AppStore } from '../state/store';
import { useApp, useAppStore } from './useApp';

async function loadFile(store: AppStore, file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const before = store.getState().model;
  store.getState().loadModel(file.name, bytes);
  // A user's model starts with no data chosen: the built-in documents suit OCR models, not every model,
  // so the data panel offers them by name and the user picks.
  if (store.getState().model !== before) store.getState().clearData();
}

export function ModelLoader() {
  const store = useAppStore();
  const error = useApp((s) => s.modelError);
  const [busy, setBusy] = useState(false);
  return (
    <section className="card" id="step-load">
      <h2>1 · Model</h2>
      <DropZone
        label="Load model"
        accept=".onnx"
        hint="Drop an .onnx file here. It is read in this page and never leaves your machine."
        testId="dropzone"
        onFiles={(files) => void loadFile(store, files[0]!)}
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
      <ErrorBanner error={error} testId="model-error" />
    </section>
  );
}
