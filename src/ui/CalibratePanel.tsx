import { ErrorBanner } from './ErrorBanner';
import { useApp, useAppStore } from './useApp';

import { useEffect } from 'react';
import { recurrentPairs } from '../core/guard';
import { useCalibrationScope } from './useCalibrationScope';

/** The store's WebGPU adapter, probed once when the panel first shows. */
function useWebGpu() {
  const store = useAppStore();
  useEffect(() => void store.getState().probeGpu(), [store]);
  return useApp((s) => s.gpu);
}

export function CalibratePanel() {
  const store = useAppStore();
  const model = useApp((s) => s.model);
  const dataLabel = useApp((s) => s.dataLabel);
  const dataKind = useApp((s) => s.dataKind);
  const cal = useApp((s) => s.calibration);
  const backend = useApp((s) => s.backend);
  const mode = useApp((s) => s.calibrationMode);
  const override = useApp((s) => s.presetOverride);
  const chainOn = useApp((s) => s.chainRecurrent);
  const dataGeneration = useApp((s) => s.dataGeneration);
  const gpu = useWebGpu();
  // the count the calibration will observe; a model whose quantizable nodes all sit in control flow is
  // said before the run, not only when refused
  const { count: calibrated, nothing } = useCalibrationScope();
  if (!model) return null;
  const pairs = recurrentPairs(model.summary.inputs, model.summary.outputs);
  const running = cal.status === 'running';
  // Statistics measured on data the user has since replaced: kept (the explorer still shows them), but said.
  const stale = cal.stats !== null && cal.statsData !== null && cal.statsData !== dataGeneration;
  const pct = cal.progress.total ? Math.round((100 * cal.progress.done) / cal.progress.total) : 0;
  return (
    <section className="card" data-testid="calibrate-panel" id="step-calibrate">
      <h2>3 · Calibrate</h2>
      <p>
        Data: {dataKind !== 'none' ? dataLabel : 'none loaded'}
        {model.imageInput && dataKind === 'images' && (
          <span className="muted">
            {' '}
            → input <code>{model.imageInput.name}</code>, {(override ?? model.imageInput.preset).channels}{' '}
            {(override ?? model.imageInput.preset).layout}, {(override ?? model.imageInput.preset).normalize}{' '}
            normalisation
          </span>
        )}
      </p>
      {nothing ? (
        <p className="muted" data-testid="calibrate-nothing">
          As the model stands, {nothing}
          {dataKind === 'tensors' && ' Calibrate checks your files for one value first.'}
        </p>
      ) : (
        <p className="muted">
          Calibrates {calibrated} tensors ({model.plan.activations.length} activations, and the model&apos;s inputs and
          outputs): each run is reduced to min/max and a histogram inside the worker, and only those statistics reach
          this page.
        </p>
      )}
      <div className="row">
        <label>
          Backend{' '}
          <select
            value={backend}
            disabled={running}
            onChange={(e) => store.getState().setBackend(e.target.value as 'wasm' | 'webgpu')}
            aria-label="Backend"
          >
            <option value="wasm">WASM (CPU)</option>
            <option value="webgpu" disabled={!gpu?.available}>
              {!gpu
                ? 'WebGPU (checking…)'
                : !gpu.available
                  ? `WebGPU (${gpu.description})`
                  : gpu.fallback
                    ? 'WebGPU, software fallback adapter (slow)'
                    : `WebGPU (${gpu.description})`}
            </option>
          </select>
        </label>
        <label title="Streaming grows each histogram as samples arrive (one pass). onnxruntime-exact runs every sample twice: first the ranges, then the histograms on the final ranges, as onnxruntime's quantize_static bins all batches at once, so percentile and entropy match it exactly.">
          Statistics{' '}
          <select
            value={mode}
            disabled={running}
            onChange={(e) => store.getState().setCalibrationMode(e.target.value as 'streaming' | 'onnxruntime-exact')}
            aria-label="Calibration mode"
          >
            <option value="streaming">streaming (one pass)</option>
            <option value="onnxruntime-exact">onnxruntime-exact (two passes)</option>
          </select>
        </label>
        {pairs.length > 0 && (
          <label
            data-testid="chain-recurrent"
            title="A recurrent model: each sample's output is fed back as the next sample's input, so calibration sees the state a real stream produces"
          >
            <input
              type="checkbox"
              checked={chainOn}
              disabled={running}
              onChange={(e) => store.getState().setChainRecurrent(e.target.checked)}
            />{' '}
            Streaming order: feed {pairs.map((p) => `${p.output} back into ${p.input}`).join(', ')}
          </label>
        )}
      </div>
      {backend === 'webgpu' && gpu?.fallback && (
        <p className="warn-text" data-testid="webgpu-fallback">
          This browser's only WebGPU adapter is a software fallback ({gpu.description}): results are correct but 60-100x
          slower than WASM. It says nothing about GPU speed.
        </p>
      )}
      {(running || cal.progress.done > 0) && (
        <div
          className="progress"
          role="progressbar"
          aria-valuenow={pct}
          aria-valuemin={0}
          aria-valuemax={100}
          data-testid="calibration-progress"
        >
          <div style={{ width: `${pct}%` }} />
          <span>
            {cal.progress.done} / {cal.progress.total} samples
          </span>
        </div>
      )}
      {cal.session && (
        <p data-testid="session-info">
          Execution provider <b>{cal.session.backend}</b>, <b data-testid="thread-count">{cal.session.numThreads}</b>{' '}
          thread
          {cal.session.numThreads === 1 ? '' : 's'} (
          {cal.session.crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated'},{' '}
          {cal.session.hardwareConcurrency} cores)
          {cal.session.statisticsFold && <span data-testid="statistics-fold">; {cal.session.statisticsFold}</span>}
        </p>
      )}
      <p data-testid="calibration-status" data-status={cal.status} data-runs={cal.runs} data-stale={stale}>
        {cal.status === 'done' &&
          cal.ms !== null &&
          `Calibrated in ${(cal.ms / 1000).toFixed(1)} s (inference ${((cal.inferenceMs ?? 0) / 1000).toFixed(1)} s).`}
        {cal.status === 'done' && cal.chained.length > 0 && (
          <span data-testid="chained-inputs">
            {' '}
            Streaming order: chained {cal.chained.join(', ')} (each fed from the previous sample's output).
          </span>
        )}
        {cal.status === 'cancelled' && 'Cancelled. The statistics from before this run are kept.'}
        {running && 'Calibrating…'}
      </p>
      {stale && !running && (
        <p className="warn-text" data-testid="calibration-stale">
          The calibration data changed since these statistics were measured: they are the earlier data's until you press
          Calibrate again.
        </p>
      )}
      {cal.status === 'done' &&
        cal.notes.map((n) => (
          <p key={n} className="muted" data-testid="calibration-note">
            Note: {n}
          </p>
        ))}
      <ErrorBanner error={cal.error} testId="calibration-error" />
    </section>
  );
}
