/** Tune's result: what the configuration in use changed against the start, and the search's own steps. */
import { configChanges, type ConfigChange } from '../state/tuneChanges';
import { formatTuneValue } from './TuneFormat';
import { useApp } from './useApp';

/** At most this many changes are listed at once; the rest open on demand (the side panel stays short). */
const SHOWN_CHANGES = 8;

/** What the configuration in use changed against the start, why, and the search's own steps with their metrics. */
export function TuneChanges() {
  const t = useApp((s) => s.tuning);
  const r = t.summary!.result;
  const start = r.trials[0]!;
  const inUse = r.trials[t.picked ?? t.summary!.chosen]!;
  const fmt = (v: number) => formatTuneValue(r.target.metric, v);
  const changes = configChanges(start.config, inUse.config);
  const item = (c: ConfigChange, i: number) => (
    <li key={`${c.kind}-${c.where}-${i}`}>
      <b>{c.kind === 'model' ? 'model-wide' : `${c.kind} ${c.where}`}</b>: {c.choice}
    </li>
  );
  return (
    <div data-testid="tune-changes">
      {changes.length === 0 ? (
        <p>
          Nothing: the configuration in use is where the search started ({fmt(start.value)},{' '}
          {start.meets ? 'meeting' : 'missing'} the target).
        </p>
      ) : (
        <>
          <p className="muted">
            The chosen settings gave {fmt(start.value)}
            {start.meets ? ', meeting the target' : ', under the target'}; the configuration in use (#{inUse.id},{' '}
            {inUse.label}) gives {fmt(inUse.value)} by changing:
          </p>
          <ul className="tune-changes">{changes.slice(0, SHOWN_CHANGES).map(item)}</ul>
          {changes.length > SHOWN_CHANGES && (
            <details>
              <summary>{changes.length - SHOWN_CHANGES} more changes</summary>
              <ul className="tune-changes">{changes.slice(SHOWN_CHANGES).map(item)}</ul>
            </details>
          )}
        </>
      )}
      {r.changes.length > 0 && (
        <details data-testid="tune-steps">
          <summary>
            The search&rsquo;s steps ({r.changes.length}): model-wide moves first, then the groups whose float version
            helps most, then cheaper choices back
          </summary>
          <ul className="tune-changes">
            {r.changes.map((c, i) => (
              <li key={`${c.group}-${i}`}>
                <b>{c.group}</b>: {c.choice}{' '}
                <span className="muted">
                  ({fmt(c.before)} → {fmt(c.after)})
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
