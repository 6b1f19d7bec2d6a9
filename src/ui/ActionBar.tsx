/**
 * The actions, always on screen at the top of the side panel: Calibrate (and Cancel while it runs),
 * Tune next to it (the tuner's own control goes in its slot), and Export. Each accessible name
 * belongs to one control only.
 */
import { exportAndDownload, useExportReady } from './ExportPanel';
import { useApp, useAppStore } from './useApp';

export function ActionBar() {
  const model = useApp((s) => s.model);
  const dataKind = useApp((s) => s.dataKind);
  const status = useApp((s) => s.calibration.status);
  const exporting = useApp((s) => s.exporting);
  const ready = useExportReady();
  const store = useAppStore();
  if (!model) return null;
  const running = status === 'running';
  return (
    <div className="action-bar" data-testid="action-bar">
      <button
        type="button"
        className="primary"
        disabled={running || dataKind === 'none'}
        title={dataKind === 'none' ? 'Choose calibration data first' : undefined}
        onClick={() => void store.getState().calibrate()}
      >
        Calibrate
      </button>
      {running && (
        <button type="button" onClick={() => store.getState().cancelCalibration()}>
          Cancel
        </button>
      )}
      {/* Tune (the tuner, issue 12) sits here, next to Calibrate: id="tune" is what the guard's alert points to. */}
      <span className="tune-slot" data-testid="tune-slot" />
      <button
        type="button"
        className="primary"
        disabled={!ready || exporting !== null}
        onClick={() => void exportAndDownload(store)}
      >
        Export
      </button>
    </div>
  );
}
