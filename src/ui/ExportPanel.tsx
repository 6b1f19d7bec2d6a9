import { DET_HELD_OUT, fetchSampleFiles, REC_HELD_OUT } from '../state/sample';
import { ErrorBanner } from './ErrorBanner';
import { formatBytes } from './format';
import { appStore, useApp } from './useApp';

function download(name: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ExportPanel() {
  const model = useApp((s) => s.model);
  const cal = useApp((s) => s.calibration);
  const exported = useApp((s) => s.exported);
  const error = useApp((s) => s.exportError);
  const config = useApp((s) => s.config);
  const exporting = useApp((s) => s.exporting);
  if (!model) return null;
  const ready = cal.stats !== null && cal.statsFor === model.fileName;
  return (
    <section className="card" data-testid="export-panel">
      <h2>5 · Export</h2>
      <p className="muted">
        Static QDQ: activations {config.activations.dtype} {config.activations.symmetric ? 'symmetric' : 'asymmetric'}, weights int8 symmetric{' '}
        {config.weights.perChannel ? 'per channel' : 'per tensor'}, int32 bias (scale = input scale × weight scale). Opens in onnxruntime,
        TensorRT and OpenVINO.
      </p>
      <button
        type="button"
        className="primary"
        disabled={!ready || exporting !== null}
        onClick={async () => {
          const r = await appStore.getState().exportModel();
          if (!r) return;
          download(r.fileName, r.bytes);
          // Then show what the export still does against the float model, on held-out samples where we have them.
          const ocr = appStore.getState().model?.ocr;
          const heldOut = ocr ? fetchSampleFiles(import.meta.env.BASE_URL, ocr, ocr === 'rec' ? REC_HELD_OUT : DET_HELD_OUT) : Promise.resolve(undefined);
          void heldOut.then((files) => appStore.getState().compare(files)).catch(() => appStore.getState().compare());
        }}
      >
        Export
      </button>
      {!ready && <span className="muted"> Calibrate first.</span>}
      {exporting && (
        <span className="muted" data-testid="exporting">
          {' '}
          Computing ranges… {exporting.done} / {exporting.total}
        </span>
      )}
      {exported && (
        <div data-testid="export-result">
          <p>
            Downloaded <b>{exported.fileName}</b>: <b data-testid="export-size">{formatBytes(exported.bytes.length)}</b>, against{' '}
            {formatBytes(exported.floatBytes)} for the float model (
            <b data-testid="export-ratio">{((100 * exported.bytes.length) / exported.floatBytes).toFixed(1)}%</b>), built in {exported.ms.toFixed(0)} ms.
          </p>
          <p className="muted">
            {exported.report.quantizedNodes} nodes quantized, {exported.report.quantizedActivations} activations and {exported.report.quantizedWeights}{' '}
            weights; {((100 * exported.report.intWeightBytes) / exported.report.totalWeightBytes).toFixed(1)}% of weight bytes stored as 8-bit integers.
          </p>
          {exported.report.floatTensors.length > 0 && (
            <ul className="log" data-testid="float-tensors">
              {exported.report.floatTensors.map((t) => (
                <li key={t.tensor}>
                  {t.tensor} stays float: {t.reason}
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
