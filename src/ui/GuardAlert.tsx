/**
 * The guard rail next to the download: the export against the float model on held-out (or split)
 * samples, or for a file too large to run here its weights tensor by tensor (weight SQNR, the worst
 * named). Missing the target is an alert naming the metric, its value and the target, and offers Tune
 * (which searches the choices for a setting that meets it) and the choices themselves; meeting it is one
 * quiet line; no verdict says why.
 */
import { useEffect, useRef } from 'react';
import { describeVerdict, formatGuardValue } from '../core/guard';
import type { ExportGuard } from '../state/guard';

/** Bring the Tune panel into view and focus the Tune button (id="tune", in the action bar). */
function goToTune(): void {
  document.getElementById('step-tune')?.scrollIntoView({ block: 'start' });
  document.getElementById('tune')?.focus();
}

/** Bring the Choices panel into view and focus it. */
function goToChoices(): void {
  const choices = document.getElementById('step-choices');
  choices?.scrollIntoView({ block: 'nearest' });
  choices?.focus();
}

export function GuardAlert({
  guard,
  int8Throughout = false,
}: {
  guard: ExportGuard;
  /** A TFLite int8 file: every tensor int8 by TFLite's specification, so only the ranges can change it. */
  int8Throughout?: boolean;
}) {
  const v = guard.verdict;
  const alertRef = useRef<HTMLDivElement>(null);
  // Export is pressed in the action bar at the top of the side panel; the verdict lands below the
  // export's controls, often under the panel's fold: a missed target is brought into view (the least
  // scroll that shows it), not left for the user to find.
  const missed = v !== null && !v.passed;
  useEffect(() => {
    if (missed) alertRef.current?.scrollIntoView?.({ block: 'nearest' });
  }, [missed, v]);
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
    <div className="guard-alert" role="alert" data-testid="guard-alert" ref={alertRef}>
      <b>
        This export misses the target: {v.metric} {formatGuardValue(v.metric, v.value)} against a target of{' '}
        {formatGuardValue(v.metric, v.target)}
      </b>{' '}
      ({v.metric === 'weight SQNR' ? 'worst weight' : 'output'} <code>{v.output}</code>, {v.source})
      {v.worst && v.worst.length > 1 && (
        <>
          ; the worst weights:{' '}
          {v.worst.map((w, i) => (
            <span key={w.tensor}>
              {i > 0 && ', '}
              <code>{w.tensor}</code> {formatGuardValue(v.metric, w.sqnrDb)}
            </span>
          ))}
        </>
      )}
      .{' '}
      {int8Throughout ? (
        <>
          A TFLite int8 file is int8 throughout (TFLite’s int8 specification), so its ranges are what can change:{' '}
          <a
            href="#step-choices"
            onClick={(e) => {
              e.preventDefault();
              goToChoices();
            }}
          >
            choose another calibration method
          </a>{' '}
          (per tensor, or for the model). What Tune finds by keeping nodes float or at 16 bits applies to the static QDQ
          form, not to this file.
        </>
      ) : (
        <MissedTargetFixes />
      )}
    </div>
  );
}

/** What fixes a missed target in a form that can keep nodes float or at 16 bits: Tune, or the choices by hand. */
function MissedTargetFixes() {
  return (
    <>
      <a
        href="#step-tune"
        onClick={(e) => {
          e.preventDefault();
          goToTune();
        }}
      >
        Let Tune find a setting that meets it
      </a>{' '}
      (press Tune with this target in step 4), or{' '}
      <a
        href="#step-choices"
        onClick={(e) => {
          e.preventDefault();
          goToChoices();
        }}
      >
        Change the choices
      </a>{' '}
      by hand (another method, 16-bit activations, or the nodes at fault kept float). From the command line,{' '}
      <code>quantscope tune</code> runs the same search.
    </>
  );
}
