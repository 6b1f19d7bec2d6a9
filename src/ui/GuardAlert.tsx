/**
 * The guard rail next to the download: the export against the float model on held-out (or split)
 * samples. Missing the target is an alert naming the metric, its value and the target, and points to
 * Tune; meeting it is one quiet line; no verdict says why.
 */
import { describeVerdict, formatGuardValue } from '../core/guard';
import type { ExportGuard } from '../state/guard';

/** Bring the Tune control (next to Calibrate) into view and focus it. */
function goToTune(): void {
  const tune =
    document.getElementById('tune') ?? document.querySelector<HTMLElement>('[data-testid="calibrate-panel"]');
  tune?.scrollIntoView({ block: 'nearest' });
  tune?.focus();
}

export function GuardAlert({ guard }: { guard: ExportGuard }) {
  const v = guard.verdict;
  if (!v)
    return guard.note ? (
      <p className="muted" data-testid="guard-note">
        {guard.note}
      </p>
    ) : null;
  if (v.passed)
    return (
      <p className="muted" data-testid="guard-pass">
        Checked against the float model: {describeVerdict(v)}.
      </p>
    );
  return (
    <div className="guard-alert" role="alert" data-testid="guard-alert">
      <b>
        This export misses the target: {v.metric} {formatGuardValue(v.metric, v.value)} against a target of{' '}
        {formatGuardValue(v.metric, v.target)}
      </b>{' '}
      (output <code>{v.output}</code>, {v.source}).{' '}
      <a
        href="#tune"
        onClick={(e) => {
          e.preventDefault();
          goToTune();
        }}
      >
        Find a setting that meets it with Tune
      </a>{' '}
      (next to Calibrate), or try another method, 16-bit activations or keeping the nodes at fault float.
    </div>
  );
}
