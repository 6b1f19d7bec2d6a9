/**
 * Step 4, Tune: the target (metric, value, output), the run's progress, and after it what changed and
 * why, the metric and size before and after, and the Pareto plot of every configuration tried, where
 * any point can be picked. The choice is the page's configuration: the explorer shows its overrides and
 * Export writes it.
 */
import { targetLabel } from '../state/tuneSlice';
import { ErrorBanner } from './ErrorBanner';
import { formatTuneValue } from './TuneFormat';
import { TuneResultView } from './TuneResult';
import { TargetControls } from './TuneTarget';
import { useApp } from './useApp';

function TuneProgressBar() {
  const p = useApp((s) => s.tuning.progress);
  const pct = p.total ? Math.round((100 * p.done) / p.total) : 0;
  return (
    <>
      <div
        className="progress"
        role="progressbar"
        aria-label="Tuning progress"
        aria-valuenow={pct}
        aria-valuemin={0}
        aria-valuemax={100}
        data-testid="tune-progress"
      >
        <div style={{ width: `${pct}%` }} />
        <span>
          {p.trials} configurations tried{p.total ? ` of about ${p.total}` : ''}
        </span>
      </div>
      <p className="muted" data-testid="tune-phase">
        {p.phase || 'starting'}
        {p.metric !== null &&
          p.target &&
          `: last ${formatTuneValue(p.target.metric, p.metric)}, target ${targetLabel(p.target)}`}
      </p>
    </>
  );
}

export function TunePanel() {
  const model = useApp((s) => s.model);
  const t = useApp((s) => s.tuning);
  if (!model) return null;
  const running = t.status === 'running';
  const hasResult = t.status === 'done' && t.summary !== null && t.forModel === model.fileName;
  return (
    <section className="card" data-testid="tune-panel" id="step-tune" tabIndex={-1}>
      <h2>4 · Tune</h2>
      <p className="muted">
        Searches per-group choices (calibration method, 16-bit activations, 8-bit weights, kept float) for the smallest
        file that meets a target on held-out samples, with the command line&rsquo;s engine, in the worker.
      </p>
      <TargetControls disabled={running} />
      {running && <TuneProgressBar />}
      <p data-testid="tune-status" data-status={t.status} className="muted">
        {t.status === 'cancelled' && 'Cancelled: the configuration is as it was.'}
      </p>
      <ErrorBanner error={t.error} testId="tune-error" />
      {hasResult && <TuneResultView />}
    </section>
  );
}
