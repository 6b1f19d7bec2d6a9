import { useEffect, useMemo, useRef, useState } from 'react';
import { previewImageTensor } from '../data/preview';
import { loadSampleImages, SAMPLES } from '../state/sample';
import type { ImagePreset } from '../data/image';
import { DropZone } from './DropZone';
import { ErrorBanner } from './ErrorBanner';
import { GeneratedEditor } from './GeneratedDataEditor';
import { formatNumber, formatShape } from './format';
import type { AppStore } from '../state/store';
import { useApp, useAppStore } from './useApp';

async function loadFiles(store: AppStore, list: readonly File[]): Promise<void> {
  const files = await Promise.all(
    [...list].map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
  );
  await store.getState().loadDataFiles(files);
}

function Thumbnail({ image }: { image: { width: number; height: number; data: Uint8Array | Uint8ClampedArray } }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    c.width = image.width;
    c.height = image.height;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  }, [image]);
  return <canvas ref={ref} className="thumb" data-testid="preset-thumbnail" />;
}

const NORMALIZATIONS: [ImagePreset['normalize'], string][] = [
  ['imagenet', 'ImageNet mean/std'],
  ['unit', '0..1'],
  ['signed', '-1..1'],
  ['raw255', '0..255'],
];

function PresetEditor({ preset }: { preset: ImagePreset }) {
  const store = useAppStore();
  const set = (p: Partial<ImagePreset>) => store.getState().setPresetOverride({ ...preset, ...p });
  const size = (v: string): number | undefined => (v.trim() === '' ? undefined : Math.max(1, Number(v)));
  return (
    <div className="row preset" data-testid="preset-editor">
      <label>
        Normalise{' '}
        <select
          aria-label="Normalisation"
          value={preset.normalize}
          onChange={(e) => set({ normalize: e.target.value as ImagePreset['normalize'] })}
        >
          {NORMALIZATIONS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <label>
        Channels{' '}
        <select
          aria-label="Channel order"
          value={preset.channels}
          onChange={(e) => set({ channels: e.target.value as 'RGB' | 'BGR' })}
        >
          <option>RGB</option>
          <option>BGR</option>
        </select>
      </label>
      <label>
        Layout{' '}
        <select
          aria-label="Layout"
          value={preset.layout}
          onChange={(e) => set({ layout: e.target.value as 'NCHW' | 'NHWC' })}
        >
          <option>NCHW</option>
          <option>NHWC</option>
        </select>
      </label>
      <label>
        W{' '}
        <input
          aria-label="Target width"
          className="num"
          placeholder="auto"
          value={preset.width ?? ''}
          onChange={(e) => set({ width: size(e.target.value) })}
        />
      </label>
      <label>
        H{' '}
        <input
          aria-label="Target height"
          className="num"
          placeholder="auto"
          value={preset.height ?? ''}
          onChange={(e) => set({ height: size(e.target.value) })}
        />
      </label>
      <label>
        Resize{' '}
        <select
          aria-label="Resize"
          value={preset.resize}
          onChange={(e) => set({ resize: e.target.value as ImagePreset['resize'] })}
        >
          <option value="stretch">stretch</option>
          <option value="pad">keep aspect, pad</option>
          <option value="height-pad">height fixed, width up to W, pad (PaddleOCR cls)</option>
        </select>
      </label>
    </div>
  );
}

export function DataPanel() {
  const store = useAppStore();
  const model = useApp((s) => s.model);
  const kind = useApp((s) => s.dataKind);
  const label = useApp((s) => s.dataLabel);
  const images = useApp((s) => s.images);
  const error = useApp((s) => s.dataError);
  const loading = useApp((s) => s.dataLoading);
  const refused = useApp((s) => s.refusedFiles);
  const override = useApp((s) => s.presetOverride);
  const [showGen, setShowGen] = useState(false);
  const preset = override ?? model?.imageInput?.preset ?? null;
  const preview = useMemo(() => {
    if (kind !== 'images' || !images[0] || !preset) return null;
    try {
      return previewImageTensor(images[0].image, preset);
    } catch {
      return null;
    }
  }, [kind, images, preset]);
  if (!model) return null;
  return (
    <section className="card" data-testid="data-panel" id="step-data">
      <h2>2 · Calibration data</h2>
      <DropZone
        label="Calibration data"
        accept="image/png,image/jpeg,image/webp,.npy,.npz,.pb"
        multiple
        className="small"
        hint="Images (PNG, JPEG, WebP), .npy / .npz tensors, or ONNX test-data input_N.pb files."
        testId="data-dropzone"
        onFiles={(files) => void loadFiles(store, files)}
      >
        {model.imageInput &&
          (model.ocr ? [model.ocr] : (['det', 'rec'] as const)).map((id) => (
            <button
              key={id}
              type="button"
              title={`${SAMPLES[id].images.length} rendered ${id === 'det' ? 'document pages' : 'text lines'}: suited to OCR ${id === 'det' ? 'text detection' : 'text recognition'} models, not to photos or other images`}
              onClick={() => void loadSampleImages(store, import.meta.env.BASE_URL, id)}
            >
              Built-in {id === 'det' ? 'documents' : 'text lines'} (for OCR models)
            </button>
          ))}
        <button type="button" onClick={() => setShowGen((v) => !v)}>
          Generate data…
        </button>
      </DropZone>
      {showGen && <GeneratedEditor />}
      <p data-testid="data-label">
        {loading
          ? 'Reading files…'
          : kind === 'none'
            ? 'No calibration data chosen yet: bring samples of what the model will see, or generate data.'
            : label}
      </p>
      {refused.length > 0 && (
        <div className="refused" data-testid="refused-files">
          {kind !== 'none' && !error
            ? `${refused.length} file${refused.length === 1 ? '' : 's'} left out, the others kept:`
            : 'Refused:'}
          <ul className="log">
            {refused.map((r) => (
              <li key={r.name} data-code={r.error.code}>
                <b>{r.name}</b>:{' '}
                {r.error.message.startsWith(r.name)
                  ? r.error.message.slice(r.name.length).replace(/^[:\s]+/, '')
                  : r.error.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {kind === 'images' && preset && <PresetEditor preset={preset} />}
      {preview && (
        <div className="preview" data-testid="preset-preview">
          <Thumbnail image={preview.thumbnail} />
          <div>
            First image as the model sees it: shape <b data-testid="preview-shape">{formatShape(preview.dims)}</b>,
            values{' '}
            <b data-testid="preview-range">
              {formatNumber(preview.min)} … {formatNumber(preview.max)}
            </b>
          </div>
        </div>
      )}
      <ErrorBanner error={error} testId="data-error" />
    </section>
  );
}
