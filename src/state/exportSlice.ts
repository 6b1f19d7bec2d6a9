import type { StateCreator } from 'zustand/vanilla';
import { DEFAULT_CONFIG } from '../core/config';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { finalizeMinMax, isNonFinite } from '../core/minmax';
import { buildQdqModel, encodeModel, planQuantization, type TensorRange } from '../onnx';
import type { StatsMap } from '../runtime/calibrate';
import type { AppState, ExportResult, ExportSlice } from './types';

/** Calibrated ranges: null for a tensor that produced NaN or Infinity (it stays float). */
export function rangesFromStats(stats: StatsMap): Map<string, TensorRange | null> {
  const out = new Map<string, TensorRange | null>();
  for (const [t, s] of Object.entries(stats)) out.set(t, isNonFinite(s.minmax) ? null : finalizeMinMax(s.minmax));
  return out;
}

/** `model.onnx` → `model.int8.onnx`. */
export function exportFileName(fileName: string, suffix = 'int8'): string {
  const base = fileName.replace(/\.onnx$/i, '');
  return `${base}.${suffix}.onnx`;
}

export const createExportSlice: StateCreator<AppState, [], [], ExportSlice> = (set, get) => ({
  config: DEFAULT_CONFIG,
  exported: null,
  exportError: null,
  setConfig(update) {
    set((s) => ({ config: typeof update === 'function' ? update(s.config) : { ...s.config, ...update }, exported: null }));
  },
  exportModel() {
    const { model, calibration, config } = get();
    try {
      if (!model) throw new QuantscopeError('NO_STATISTICS', 'load a model first');
      if (!calibration.stats || calibration.statsFor !== model.fileName) {
        throw new QuantscopeError('NO_STATISTICS', `calibrate ${model.fileName} before exporting it`);
      }
      const t0 = performance.now();
      // The plan follows the configuration (exclusions change it); tensors it needs that were not
      // calibrated stay float, and the report says so.
      const plan = planQuantization(model.prepared, config);
      const { model: q, report } = buildQdqModel(model.prepared, plan, rangesFromStats(calibration.stats), config);
      const bytes = encodeModel(q);
      const result: ExportResult = { fileName: exportFileName(model.fileName), bytes, floatBytes: model.bytes.length, report, ms: performance.now() - t0 };
      set({ exported: result, exportError: null });
      return result;
    } catch (e) {
      set({ exportError: toErrorInfo(e) });
      return null;
    }
  },
});
