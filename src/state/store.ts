/**
 * The app's store: a vanilla zustand store (no React in it) made of one slice per concern, with a
 * thin React binding in ui/. The calibrator is injected: the page passes the worker client.
 */
import { createStore } from 'zustand/vanilla';
import { createCalibrationSlice } from './calibrationSlice';
import { createCompareSlice } from './compareSlice';
import { createDataSlice } from './dataSlice';
import { createDebugSlice } from './debugSlice';
import { createExportSlice } from './exportSlice';
import { createModelSlice } from './modelSlice';
import { createRemoteSlice } from './remoteSlice';
import { createTuneSlice } from './tuneSlice';
import type { Calibrator } from './calibrator';
import type { AppState } from './types';

export function createAppStore(calibrator: Calibrator) {
  return createStore<AppState>()((...a) => ({
    ...createModelSlice(calibrator)(...a),
    ...createDataSlice(...a),
    ...createCalibrationSlice(calibrator)(...a),
    ...createExportSlice(calibrator)(...a),
    ...createCompareSlice(calibrator)(...a),
    ...createRemoteSlice(...a),
    ...createTuneSlice(calibrator)(...a),
    ...createDebugSlice(calibrator)(...a),
  }));
}

export type AppStore = ReturnType<typeof createAppStore>;
export type * from './types';
export type * from './calibrator';
