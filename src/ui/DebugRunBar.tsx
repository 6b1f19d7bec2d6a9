/** Run / Cancel, a progress bar and the time taken, for the debugger's and sensitivity's worker jobs. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { JobStatus } from '../state/debugSlice';

/** Time left at the rate so far, from the first step on (the set-up before it is not a step). */
function useTimeLeft(running: boolean, progress: { readonly done: number; readonly total: number }): string | null {
  const firstStep = useRef<{ at: number; done: number } | null>(null);
  const [left, setLeft] = useState<string | null>(null);
  useEffect(() => {
    if (!running) {
      firstStep.current = null;
      setLeft(null);
      return;
    }
    if (progress.done === 0) return;
    if (!firstStep.current) {
      firstStep.current = { at: performance.now(), done: progress.done };
      return;
    }
    const f = firstStep.current;
    const steps = progress.done - f.done;
    if (steps <= 0) return;
    const s = (((performance.now() - f.at) / steps) * (progress.total - progress.done)) / 1000;
    setLeft(s < 90 ? `${Math.ceil(s)} s` : `${Math.ceil(s / 60)} min`);
  }, [running, progress.done, progress.total]);
  return left;
}

export function DebugRunBar({
  label,
  status,
  progress,
  unit,
  ms,
  source,
  error,
  onRun,
  onCancel,
  testId,
  disabled,
  children,
  options,
}: {
  label: string;
  status: JobStatus;
  progress: { readonly done: number; readonly total: number };
  unit: string;
  ms: number | null;
  source: string | null;
  error: string | null;
  onRun: () => void;
  onCancel: () => void;
  testId: string;
  disabled?: string | null;
  children?: ReactNode;
  /** Choices shown after the Run button (how many samples). */
  options?: ReactNode;
}) {
  const running = status === 'running';
  const left = useTimeLeft(running, progress);
  const pct = progress.total ? Math.round((100 * progress.done) / progress.total) : 0;
  return (
    <div className="debug-run" data-testid={testId} data-status={status}>
      <div className="debug-run-row">
        <button type="button" className="primary" onClick={onRun} disabled={running || Boolean(disabled)}>
          {label}
        </button>
        {!running && options}
        {running && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
        {running && (
          <div
            className="progress debug-progress"
            role="progressbar"
            aria-label={`${label}: progress`}
            aria-valuenow={pct}
            aria-valuemin={0}
            aria-valuemax={100}
          >
            <div style={{ width: `${pct}%` }} />
            <span>
              {progress.done} / {progress.total} {unit}
              {left !== null && ` · about ${left} left`}
            </span>
          </div>
        )}
        {status === 'done' && ms !== null && (
          <span className="muted small" data-testid={`${testId}-time`}>
            took {(ms / 1000).toFixed(1)} s
          </span>
        )}
        {status === 'cancelled' && <span className="muted small">cancelled</span>}
        {children}
      </div>
      {disabled && <p className="muted small">{disabled}</p>}
      {source && status !== 'idle' && <p className="muted small">On {source}.</p>}
      {error && status === 'error' && (
        <p className="error" role="alert" data-testid={`${testId}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
