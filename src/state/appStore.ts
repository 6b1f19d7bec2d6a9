/** The page's store, wired to the real calibration worker. */
import { cancelCalibration, startCalibration } from '../runtime/client';
import { createAppStore } from './store';

export const appStore = createAppStore({ start: startCalibration, cancel: cancelCalibration });
