/**
 * The Tune action in the action bar, next to Calibrate: it runs the search in the worker (enabled once
 * there are ranges to search: after calibration, or at once for weight-only); while it runs, a Cancel
 * tuning button sits beside it. id="tune" is what the guard's alert and the stepper point to.
 */
import { useExportReady } from './ExportPanel';
import { useApp, useAppStore } from './useApp';

export function TuneButton() {
  const store = useAppStore();
  const calibrating = useApp((s) => s.calibration.status === 'running');
  const tuning = useApp((s) => s.tuning.status === 'running');
  const exporting = useApp((s) => s.exporting !== null);
  const form = useApp((s) => s.config.form?.kind ?? 'qdq');
  const ready = useExportReady();
  const calibrated = useApp((s) => s.calibration.stats !== null && s.calibration.statsFor === s.model?.fileName);
  const canSearch = form === 'qdq' ? calibrated : form === 'weight-only' && ready;
  const why = !canSearch
    ? form === 'qdq'
      ? 'Calibrate first: Tune searches the calibrated ranges'
      : 'Tune searches static QDQ and weight-only (DequantizeLinear) files'
    : undefined;
  return (
    <>
      <button
        id="tune"
        type="button"
        className="primary"
        disabled={!canSearch || calibrating || tuning || exporting}
        title={why}
        onClick={() => {
          document.getElementById('step-tune')?.scrollIntoView({ block: 'start' });
          void store.getState().tune({ baseUrl: import.meta.env.BASE_URL });
        }}
      >
        Tune
      </button>
      {tuning && (
        <button type="button" onClick={() => store.getState().cancelTune()}>
          Cancel tuning
        </button>
      )}
    </>
  );
}
