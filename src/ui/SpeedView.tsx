// SpeedView: float against exported latency, measured in this browser.
import { useApp, useAppStore } from './useApp';

/** Float against exported latency, measured in this browser. Int8 is often not faster on the web: this shows what is. */
export function SpeedView() {
  const store = useAppStore();
  const speed = useApp((s) => s.speed);
  const exported = useApp((s) => s.exported);
  const mine = speed.forExport === exported?.fileName;
  return (
    <div className="speed" data-testid="speed">
      <button type="button" disabled={speed.status === 'running'} onClick={() => void store.getState().measureSpeed()}>
        Measure speed in this browser
      </button>
      {mine && speed.status === 'running' && (
        <span className="muted"> timing (2 warm-up runs, then the median of 10)…</span>
      )}
      {mine && speed.results.length > 0 && (
        <table className="io small-table" data-testid="speed-table">
          <thead>
            <tr>
              <th>backend</th>
              <th>float: session, median run</th>
              <th>exported: session, median run</th>
              <th>exported / float</th>
            </tr>
          </thead>
          <tbody>
            {speed.results.map((r) => (
              <tr key={r.float.backend}>
                <td>{r.float.backend}</td>
                <td>
                  {r.float.createMs.toFixed(0)} ms, {r.float.medianMs.toFixed(1)} ms
                </td>
                <td>
                  {r.exported.createMs.toFixed(0)} ms, {r.exported.medianMs.toFixed(1)} ms
                </td>
                <td data-testid={`speed-ratio-${r.float.backend}`}>
                  {(r.exported.medianMs / r.float.medianMs).toFixed(2)}×
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {mine &&
        speed.skipped.map((s) => (
          <p key={s} className="muted small">
            {s}
          </p>
        ))}
      {mine && speed.error && <p className="error">{speed.error.message}</p>}
    </div>
  );
}
