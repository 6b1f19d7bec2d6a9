import { useState } from 'react';
import { loadSample, loadSampleImages, SAMPLES } from '../state/sample';
import { DropZone } from './DropZone';
import { ErrorBanner } from './ErrorBanner';
import { appStore, useApp } from './useApp';

async function loadFile(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  appStore.getState().loadModel(file.name, bytes);
  // Until the user brings data of their own, image models calibrate on the built-in images.
  const s = appStore.getState();
  if (s.dataKind === 'none' && s.model?.imageInput)
    await loadSampleImages(appStore, import.meta.env.BASE_URL, s.model.ocr ?? 'det', { onlyIfEmpty: true });
}

export function ModelLoader() {
  const error = useApp((s) => s.modelError);
  const [busy, setBusy] = useState(false);
  return (
    <section className="card">
      <h2>1 · Model</h2>
      <DropZone
        label="Load model"
        accept=".onnx"
        hint="Drop an .onnx file here. It is read in this page and never leaves your machine."
        testId="dropzone"
        onFiles={(files) => void loadFile(files[0]!)}
      >
        <span className="or">or</span>
        {(['det', 'rec'] as const).map((id) => (
          <button
            key={id}
            type="button"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              loadSample(appStore, import.meta.env.BASE_URL, id)
                .catch((e: unknown) =>
                  appStore.setState({
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
