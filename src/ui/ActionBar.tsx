/**
 * The actions, always on screen at the top of the side panel: Calibrate (and Cancel while it runs),
 * Tune next to it (the tuner's own control goes in its slot), and Export. Each accessible name
 * belongs to one control only.
 */
import { exportAndDownload, useExportReady } from './ExportPanel';
import { TuneButton } from './TuneButton';
import { useApp, useAppStore } from './useApp';

export function ActionBar() {
  const model = useApp((s) => s.model);
  const dataKind = useApp((s) => s.dataKind);
  const status = useApp((s) => s.calibration.status);
  const exporting = useApp((s) => s.exporting);
  const tuning = useApp((s) => s.tuning.status === 'running');
  const ready = useExportReady();
  const store = useAppStore();
  if (!model) return null;
  const running = status === 'running';
  return (
    <div className="action-bar" data-testid="action-bar">
      <button
        type="button"
        className="primary"
        disabled={running || tuning || dataKind === 'none'}
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
      {/* Tune sits next to Calibrate: id="tune" is what the guard's alert and the stepper point to. */}
      <span className="tune-slot" data-testid="tune-slot">
        <TuneButton />
      </span>
      <button
        type="button"
        className="primary"
        disabled={!ready || exporting !== null || tuning}
        title={tuning ? 'Tune is running: Export writes its choice when it ends' : undefined}
        onClick={() => void exportAndDownload(store)}
      >
        Export
      </button>
    </div>
  );
}
