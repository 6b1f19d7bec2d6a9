import { ErrorBanner } from './ErrorBanner';
import { GuardAlert } from './GuardAlert';
import type { ExportForm } from '../core/config';
import { defaultForm, formKindOf, type FormKind } from '../core/exportForms';
import { formLabel, TRANSFORMERS_JS_PRESETS } from '../onnx/forms';
import { formatBytes } from './format';
import { tfliteDescription, TfliteReportView } from './TfliteExport';
import { RoundingReport } from './RoundingOptions';
import { ModelAlgorithmsChoice } from './ModelAlgorithms';
import { ModelAlgorithmsReport } from './ModelAlgorithmsReport';
import type { AppStore } from '../state/store';
import { useApp, useAppStore } from './useApp';
import { canSaveToFolder, download, saveToFolder } from './download';
import { FORM_OPTIONS, FormOptions } from './ExportFormOptions';
import { RecipeButtons } from './RecipeButtons';
import { SupportTableView } from './SupportTableView';
import { SpeedView } from './SpeedView';

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
export async function exportAndDownload(store: AppStore): Promise<void> {
  await store.getState().exportAndCompare({ baseUrl: import.meta.env.BASE_URL, save: download });
}

export function ExportPanel() {
  const model = useApp((s) => s.model);
  const cal = useApp((s) => s.calibration);
  const exported = useApp((s) => s.exported);
  const error = useApp((s) => s.exportError);
  const config = useApp((s) => s.config);
  const exporting = useApp((s) => s.exporting);
  const recipeRanges = useApp((s) => s.recipeRanges);
  const store = useAppStore();
  if (!model) return null;
  const form = config.form ?? { kind: 'qdq' };
  const setForm = (f: ExportForm) => store.getState().editConfig({ kind: 'form', form: f });
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
            aria-label="File form"
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
      <ModelAlgorithmsChoice form={form} />
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
          {exporting.checking === 'tflite'
            ? `Checking the .tflite against the float model in TFLite’s interpreter… ${exporting.done} / ${exporting.total} samples`
            : exporting.checking
              ? 'Checking that the file loads in onnxruntime…'
              : needsRanges
                ? `Computing ranges… ${exporting.done} / ${exporting.total}`
                : 'Building…'}
        </span>
      )}
      {exported && (
        <div data-testid="export-result">
          <p>
            Downloaded <b>{exported.fileName}</b>
            {exported.dataFile && (
              <>
                {' '}
                and its data file <b data-testid="export-data-file">{exported.dataFile.name}</b> (keep them side by
                side)
              </>
            )}{' '}
            ({exported.form.form}
            {exported.tflite ? '' : `, opset ${exported.form.opset}`}):{' '}
            <b data-testid="export-size">{formatBytes(exported.size)}</b>, against {formatBytes(exported.floatBytes)}{' '}
            for the float model (
            <b data-testid="export-ratio">{((100 * exported.size) / exported.floatBytes).toFixed(1)}%</b>), built in{' '}
            {exported.ms.toFixed(0)} ms.
          </p>
          {exported.dataFile && canSaveToFolder() && (
            <button
              type="button"
              onClick={() =>
                void saveToFolder([{ name: exported.fileName, blob: exported.blob }, exported.dataFile!]).catch(
                  () => undefined /* the user closed the picker */,
                )
              }
            >
              Save both into a folder…
            </button>
          )}
          <GuardAlert guard={exported.guard} int8Throughout={exported.tflite?.precision === 'int8'} />
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
          <ModelAlgorithmsReport exported={exported} />
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
