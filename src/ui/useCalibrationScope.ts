import { useMemo } from 'react';
import { nothingToCalibrate, tensorsToCalibrate } from '../state/calibrationSlice';
import { useApp } from './useApp';

/**
 * What a calibration of the loaded model would observe, as the calibrate panel and the canvas both say
 * it: how many tensors (a PyTorch preset plans more: recomputed on a choice), and why there is nothing
 * to calibrate when every quantizable node sits in control flow (null otherwise).
 */
export function useCalibrationScope(): { readonly count: number; readonly nothing: string | null } {
  const model = useApp((s) => s.model);
  const config = useApp((s) => s.config);
  const count = useMemo(() => (model ? tensorsToCalibrate(model, config).length : 0), [model, config]);
  const nothing = useMemo(() => (model ? nothingToCalibrate(model) : null), [model]);
  return { count, nothing };
}
