import { useState, type DragEvent } from 'react';
import { loadSample, loadSampleImages, SAMPLES } from '../state/sample';
import { ErrorBanner } from './ErrorBanner';
import { appStore, useApp } from './useApp';

async function loadFile(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  appStore.getState().loadModel(file.name, bytes);
  // Until the user brings data of their own, image models calibrate on the built-in images.
  const s = appStore.getState();
  if (s.dataKind === 'none' && s.model?.imageInput) await loadSampleImages(appStore, import.meta.env.BASE_URL, s.model.ocr ?? 'det', { onlyIfEmpty: true });
}

export function ModelLoader() {
  const error = useApp((s) => s.modelError);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer.files[0];
    if (f) void loadFile(f);
  };
  return (
    <section className="card">
      <h2>1 · Model</h2>
      <div
        className={`dropzone${dragging ? ' dragging' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop an .onnx file here. It is read in this page and never leaves your machine.</p>
        <label className="button">
          Load model
          <input
            type="file"
            accept=".onnx"
            aria-label="Load model"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void loadFile(f);
              e.target.value = '';
            }}
          />
        </label>
        <span className="or">or</span>
        {(['det', 'rec'] as const).map((id) => (
          <button
            key={id}
            type="button"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              loadSample(appStore, import.meta.env.BASE_URL, id)
                .catch((e: unknown) => appStore.setState({ modelError: { code: 'RUNTIME', message: `the sample could not be loaded: ${String(e)}` } }))
                .finally(() => setBusy(false));
            }}
          >
            {`Use the sample: ${SAMPLES[id].title}`}
          </button>
        ))}
      </div>
      <ErrorBanner error={error} testId="model-error" />
    </section>
  );
}
