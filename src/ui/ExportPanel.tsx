import { ErrorBanner } from './ErrorBanner';
import { GuardAlert } from './GuardAlert';
import type { ExportForm } from '../core/config';
import { defaultForm, formKindOf, type FormKind } from '../core/exportForms';
import type { IntDType } from '../core/dtype';
import { formLabel, SUPPORT, TRANSFORMERS_JS_PRESETS, type SupportRow } from '../onnx/forms';
import { formatBytes } from './format';
import { TfliteOptions, tfliteDescription, TfliteReportView } from './TfliteExport';
import { RoundingChoice, RoundingReport } from './RoundingOptions';
import { appStore, useApp } from './useApp';

function download(name: string, data: Uint8Array | Blob): void {
  const blob =
    data instanceof Blob ? data : new Blob([data as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const FORM_OPTIONS: readonly (readonly [FormKind, string])[] = [
  ['qdq', 'static QDQ (calibrated)'],
  ['dq', 'weight-only, DequantizeLinear'],
  ['matmulnbits', 'weight-only, MatMulNBits'],
  ['dynamic', 'dynamic int8'],
  ['float16', 'float16'],
  ['bfloat16', 'bfloat16 weights'],
  ['q4f16', 'q4f16 (MatMulNBits + float16)'],
  ['tflite-int8', 'TFLite int8 (calibrated)'],
  ['tflite-float16', 'TFLite float16'],
  ['tflite-float32', 'TFLite float32'],
];

/**
 * The recipe: download what the last export was built from (choices, data description, float32
 * ranges), or load one to restore every choice (and export static QDQ from its ranges).
 */
function RecipeButtons() {
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
          const text = await appStore.getState().downloadRecipeText();
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
            if (f) await appStore.getState().loadRecipe(await f.text());
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

const MARK = (v: boolean | null) => (v === null ? '·' : v ? '✓' : '✗');

/** What onnxruntime-web's backends run of this file, op by op, from the probed table. */
function SupportTableView({ rows }: { rows: readonly SupportRow[] }) {
  return (
    <details data-testid="support-table">
      <summary>
        What runs where: {rows.filter((r) => r.support.webgpu === false).length} of {rows.length} op kinds fall back
        from WebGPU to the CPU (table probed with onnxruntime-web {SUPPORT.onnxruntimeWeb} in{' '}
        {SUPPORT.browser.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium'}, WebGPU adapter: {SUPPORT.webgpuAdapter})
      </summary>
      <table className="io small-table">
        <thead>
          <tr>
            <th>op : type</th>
            <th>nodes</th>
            <th>WASM</th>
            <th>WebGPU</th>
            <th>WebNN</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid={`support-${r.key}`}>
              <td>
                <code>{r.key}</code>
              </td>
              <td>{r.count}</td>
              <td>{MARK(r.support.wasm)}</td>
              <td>{MARK(r.support.webgpu)}</td>
              <td>{MARK(r.support.webnn)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">
        ✓ runs on that backend by itself · ✗ fails, or needs the CPU · · not probed (
        {SUPPORT.webnn.startsWith('webnn:') ? 'WebNN: ' + SUPPORT.webnn.replace(/^webnn: /, '') : SUPPORT.webnn})
      </p>
    </details>
  );
}

/** Float against exported latency, measured in this browser. Int8 is often not faster on the web: this shows what is. */
function SpeedView() {
  const speed = useApp((s) => s.speed);
  const exported = useApp((s) => s.exported);
  const mine = speed.forExport === exported?.fileName;
  return (
    <div className="speed" data-testid="speed">
      <button
        type="button"
        disabled={speed.status === 'running'}
        onClick={() => void appStore.getState().measureSpeed()}
      >
        Measure speed in this browser
      </button>
      {mine && speed.status === 'running' && (
        <span className="muted"> timing (2 warm-up runs, then the median of 10)…</span>
      )}
      {mine && speed.results.length > 0 && (
        <table className="io small-table" data-testid="speed-table">
          <thead>
            <tr>
              <th>backend</th>
              <th>float: session, median run</th>
              <th>exported: session, median run</th>
              <th>exported / float</th>
            </tr>
          </thead>
          <tbody>
            {speed.results.map((r) => (
              <tr key={r.float.backend}>
                <td>{r.float.backend}</td>
                <td>
                  {r.float.createMs.toFixed(0)} ms, {r.float.medianMs.toFixed(1)} ms
                </td>
                <td>
                  {r.exported.createMs.toFixed(0)} ms, {r.exported.medianMs.toFixed(1)} ms
                </td>
                <td data-testid={`speed-ratio-${r.float.backend}`}>
                  {(r.exported.medianMs / r.float.medianMs).toFixed(2)}×
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {mine &&
        speed.skipped.map((s) => (
          <p key={s} className="muted small">
            {s}
          </p>
        ))}
      {mine && speed.error && <p className="error">{speed.error.message}</p>}
    </div>
  );
}

function FormOptions({ form, set }: { form: ExportForm; set: (f: ExportForm) => void }) {
  if (form.kind === 'weight-only') {
    const dtypes: IntDType[] = ['int8', 'uint8', 'int4', 'uint4'];
    return (
      <>
        <label>
          weights{' '}
          <select
            aria-label="Weight-only dtype"
            value={form.dtype}
            onChange={(e) => set({ ...form, dtype: e.target.value as IntDType })}
          >
            {dtypes.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            aria-label="Weight-only symmetric"
            checked={form.symmetric}
            onChange={(e) => set({ ...form, symmetric: e.target.checked })}
          />{' '}
          symmetric
        </label>
        <label>
          scales{' '}
          <select
            aria-label="Weight-only granularity"
            value={form.blockSize === null ? 'channel' : String(form.blockSize)}
            onChange={(e) => set({ ...form, blockSize: e.target.value === 'channel' ? null : Number(e.target.value) })}
          >
            {form.format === 'dq' && <option value="channel">per channel</option>}
            <option value="32">blocks of 32</option>
            <option value="64">blocks of 64</option>
            <option value="128">blocks of 128</option>
          </select>
        </label>
        <RoundingChoice />
      </>
    );
  }
  if (form.kind === 'dynamic') {
    const conv = form.ops?.includes('Conv') ?? true;
    return (
      <label title="Dynamic quantization suits MatMul-heavy models (transformers); on convolutions its per-tensor uint8 weights cost accuracy">
        <input
          type="checkbox"
          aria-label="Dynamic Conv"
          checked={conv}
          onChange={(e) => set({ ...form, ops: e.target.checked ? ['MatMul', 'Gemm', 'Conv'] : ['MatMul', 'Gemm'] })}
        />{' '}
        Conv too
      </label>
    );
  }
  if (form.kind === 'tflite') return <TfliteOptions form={form} set={set} />;
  if (form.kind === 'float16') {
    return (
      <label>
        <input
          type="checkbox"
          aria-label="Keep float32 inputs and outputs"
          checked={form.keepIoTypes}
          onChange={(e) => set({ ...form, keepIoTypes: e.target.checked })}
        />{' '}
        float32 inputs and outputs
      </label>
    );
  }
  return null;
}

/** Whether Export can run now: static QDQ needs calibrated (or recipe) ranges; the other forms need nothing. */
export function useExportReady(): boolean {
  const model = useApp((s) => s.model);
  const cal = useApp((s) => s.calibration);
  const config = useApp((s) => s.config);
  const recipeRanges = useApp((s) => s.recipeRanges);
  if (!model) return false;
  const form = config.form ?? { kind: 'qdq' };
  const needsRanges = form.kind === 'qdq' || (form.kind === 'tflite' && form.precision === 'int8');
  return !needsRanges || (cal.stats !== null && cal.statsFor === model.fileName) || recipeRanges !== null;
}

/** Export: write the file, download it at once, then compare it with the float model (on held-out samples where we have them). */
export async function exportAndDownload(): Promise<void> {
  await appStore.getState().exportAndCompare({ baseUrl: import.meta.env.BASE_URL, save: download });
}

export function ExportPanel() {
  const model = useApp((s) => s.model);
  const cal = useApp((s) => s.calibration);
  const exported = useApp((s) => s.exported);
  const error = useApp((s) => s.exportError);
  const config = useApp((s) => s.config);
  const exporting = useApp((s) => s.exporting);
  const recipeRanges = useApp((s) => s.recipeRanges);
  if (!model) return null;
  const form = config.form ?? { kind: 'qdq' };
  const setForm = (f: ExportForm) => appStore.getState().setConfig((c) => ({ ...c, form: f }));
  const calibrated = cal.stats !== null && cal.statsFor === model.fileName;
  const needsRanges = form.kind === 'qdq' || (form.kind === 'tflite' && form.precision === 'int8');
  const ready = !needsRanges || calibrated || recipeRanges !== null;
  return (
    <section className="card" data-testid="export-panel" id="step-export">
      <h2>5 · Export</h2>
      <div className="row">
        <label>
          Form{' '}
          <select
            aria-label="Export form"
            value={formKindOf(form)}
            onChange={(e) => setForm(defaultForm(e.target.value as FormKind))}
          >
            {FORM_OPTIONS.map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <FormOptions form={form} set={setForm} />
      </div>
      <div className="row small">
        <span className="muted">transformers.js presets:</span>
        {TRANSFORMERS_JS_PRESETS.map((p) => (
          <button
            key={p.id}
            type="button"
            className="link"
            onClick={() => setForm(p.form)}
            title={`writes ${p.fileName}`}
          >
            {p.label}
          </button>
        ))}
      </div>
      <p className="muted" data-testid="form-description">
        {form.kind === 'qdq'
          ? `Static QDQ: activations ${config.activations.dtype} ${config.activations.symmetric ? 'symmetric' : 'asymmetric'}, weights ${config.weights.dtype} symmetric ${config.weights.perChannel ? 'per channel' : 'per tensor'}, int32 bias (scale = input scale × weight scale). Opens in onnxruntime, TensorRT and OpenVINO.`
          : form.kind === 'tflite'
            ? tfliteDescription(form)
            : `${formLabel(form)}: needs no calibration.`}
      </p>
      {!ready && (
        <span className="muted">
          {' '}
          Calibrate first ({form.kind === 'qdq' ? 'static QDQ' : 'TFLite int8'} needs activation ranges), or load a
          recipe.
        </span>
      )}
      <RecipeButtons />
      {exporting && (
        <span className="muted" data-testid="exporting">
          {' '}
          {needsRanges ? `Computing ranges… ${exporting.done} / ${exporting.total}` : 'Building…'}
        </span>
      )}
      {exported && (
        <div data-testid="export-result">
          <p>
            Downloaded <b>{exported.fileName}</b> ({exported.form.form}
            {exported.tflite ? '' : `, opset ${exported.form.opset}`}):{' '}
            <b data-testid="export-size">{formatBytes(exported.size)}</b>, against {formatBytes(exported.floatBytes)}{' '}
            for the float model (
            <b data-testid="export-ratio">{((100 * exported.size) / exported.floatBytes).toFixed(1)}%</b>), built in{' '}
            {exported.ms.toFixed(0)} ms.
          </p>
          <GuardAlert guard={exported.guard} />
          <p className="muted">
            {exported.report
              ? `${exported.report.quantizedNodes} nodes quantized, ${exported.report.quantizedActivations} activations and ${exported.report.quantizedWeights} weights; `
              : exported.form.quantizedNodes.length
                ? `${exported.form.quantizedNodes.length} nodes quantized; `
                : ''}
            {((100 * exported.weightBytes.intBytes) / Math.max(1, exported.weightBytes.totalBytes)).toFixed(1)}% of
            weight bytes stored as 8-bit or narrower integers.
          </p>
          <RoundingReport exported={exported} />
          {exported.form.notes.length > 0 && (
            <ul className="log" data-testid="form-notes">
              {exported.form.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
          {exported.tflite ? (
            <TfliteReportView report={exported.tflite} />
          ) : (
            <>
              <SupportTableView rows={exported.support} />
              <SpeedView />
            </>
          )}
          {exported.form.floatNodes.length > 0 && (
            <ul className="log" data-testid="float-tensors">
              {exported.form.floatNodes.map((t) => (
                <li key={t.node}>
                  {t.node} stays float: {t.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <ErrorBanner error={error} testId="export-error" />
    </section>
  );
}
