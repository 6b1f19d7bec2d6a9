/** The page's store, wired to the real calibration worker. */
import {
  cancelCalibration,
  startAlgorithms,
  startCalibration,
  startComparison,
  startDebug,
  startSensitivity,
  startGuard,
  startOutputs,
  startProbe,
  startRounding,
  startSpeed,
  startTune,
  startModelLoad,
  startExportFile,
  startTfliteExport,
} from '../runtime/client';
import { createAppStore } from './store';

export const appStore = createAppStore({
  start: startCalibration,
  compare: startComparison,
  speed: startSpeed,
  probe: startProbe,
  guard: startGuard,
  outputs: startOutputs,
  round: startRounding,
  tune: startTune,
  algorithms: startAlgorithms,
  debug: startDebug,
  sensitivity: startSensitivity,
  load: startModelLoad,
  exportFile: startExportFile,
  tfliteExport: startTfliteExport,
  cancel: cancelCalibration,
});
