/**
 * Equalization, SmoothQuant and bias correction in the page: the model-level choices (here), per op type
 * (the Choices table) and per node (the Weights tab) like any other choice (AlgorithmOverrides.tsx;
 * core/algorithms/choices.ts: an equalized pair belongs to its first node), run by the worker at export
 * (runtime/algorithmsJob.ts, the command line's engine), and after an export what each did
 * (ModelAlgorithmsReport.tsx).
 */
import type { ExportForm } from '../core/config';
import { AlphaInput, DEFAULT_ALPHA } from './AlgorithmInputs';
import { useApp, useAppStore } from './useApp';

export function ModelAlgorithmsChoice({ form }: { form: ExportForm }) {
  const appStore = useAppStore();
  const algorithms = useApp((s) => s.config.algorithms);
  const bias = useApp((s) => s.config.weights.biasCorrection ?? false);
  if (form.kind !== 'qdq' && !(form.kind === 'weight-only' && form.format === 'dq')) return null;
  const setAlgorithms = (next: NonNullable<typeof algorithms>) =>
    appStore.getState().setConfig((c) => ({ ...c, algorithms: next }));
  const smooth = algorithms?.smoothquant;
  return (
    <div className="row small" data-testid="model-algorithms">
      <label title="Cross-layer equalization: Conv/Gemm pairs joined by Relu, PRelu, LeakyRelu or nothing get even per-channel weight ranges; the float model is unchanged">
        <input
          type="checkbox"
          aria-label="Equalize"
          checked={algorithms?.equalize ?? false}
          onChange={(e) => {
            const { equalize: _dropped, ...rest } = algorithms ?? {};
            void _dropped;
            setAlgorithms(e.target.checked ? { ...rest, equalize: true } : rest);
          }}
        />{' '}
        equalize
      </label>
      <label title="SmoothQuant: activation outlier channels before MatMul/Gemm moved into their weights (needs data)">
        <input
          type="checkbox"
          aria-label="SmoothQuant"
          checked={smooth !== undefined}
          onChange={(e) => {
            const { smoothquant: _dropped, ...rest } = algorithms ?? {};
            void _dropped;
            setAlgorithms(e.target.checked ? { ...rest, smoothquant: {} } : rest);
          }}
        />{' '}
        SmoothQuant
      </label>
      {smooth !== undefined && (
        <AlphaInput
          label="SmoothQuant alpha"
          value={smooth.alpha ?? DEFAULT_ALPHA}
          onChange={(alpha) => alpha !== undefined && setAlgorithms({ ...algorithms, smoothquant: { alpha } })}
        />
      )}
      <label title="Bias correction: the mean output shift each quantized weight causes on your samples, subtracted from its bias (needs data)">
        <input
          type="checkbox"
          aria-label="Bias correction"
          checked={bias}
          onChange={(e) =>
            appStore.getState().setConfig((c) => {
              const { biasCorrection: _dropped, ...rest } = c.weights;
              void _dropped;
              return { ...c, weights: e.target.checked ? { ...rest, biasCorrection: true } : rest };
            })
          }
        />{' '}
        bias correction
      </label>
    </div>
  );
}
