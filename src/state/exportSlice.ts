import type { StateCreator } from 'zustand/vanilla';
import { activationConfigFor, DEFAULT_CONFIG, type QuantConfig } from '../core/config';
import { methodRange } from '../core/methods/rangeMethod';
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { finalizeMinMax, isNonFinite } from '../core/minmax';
import { buildQdqModel, encodeModel, planQuantization, type TensorRange } from '../onnx';
import type { StatsMap } from '../runtime/calibrate';
import type { AppState, ExportResult, ExportSlice } from './types';

/**
 * Calibrated ranges: null for a tensor that produced NaN or Infinity (it stays float). Without a
 * configuration, min-max; with one, each tensor's method as the configuration resolves it.
 */
export function rangesFromStats(stats: StatsMap, config?: QuantConfig, producerOf?: (t: string) => string | undefined): Map<string, TensorRange | null> {
  const out = new Map<string, TensorRange | null>();
  for (const [t, s] of Object.entries(stats)) {
    if (isNonFinite(s.minmax) || !finalizeMinMax(s.minmax)) {
      out.set(t, null);
      continue;
    }
    const a = config ? activationConfigFor(config, t, producerOf?.(t)) : undefined;
    out.set(t, methodRange(s, a?.method ?? 'minmax', { percentile: a?.percentile }));
  }
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
      const producers = new Map(model.prepared.graph!.node.flatMap((n) => n.output.map((o) => [o, n.opType] as const)));
      const ranges = rangesFromStats(calibration.stats, config, (t) => producers.get(t));
      const { model: q, report } = buildQdqModel(model.prepared, plan, ranges, config);
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
