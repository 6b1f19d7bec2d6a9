/**
 * The debugger's per-tensor list, in graph order: for each quantized activation its own error (the
 * tensor against its own Q→DQ: what this range costs alone) and its accumulated error (the float
 * model's tensor against the quantized model's: what reaches it from upstream) as SQNR bars, and the
 * cosine; then each weight (float against dequantized), then each other constant the file quantizes
 * (an Add's or Mul's constant input: quantized like an activation, not a weight), "exact" where it has
 * no error at all. The first divergence is marked; a click puts the tensor under study beside the list.
 */
import type { DebugResult, TensorError } from '../state/debugSlice';
import { formatDb } from './format';
import { sqnrColour, SQNR_GOOD_DB } from './GraphView';
import { useApp, useAppStore } from './useApp';

/** Bars span 0 .. this many dB (higher is clipped to a full bar). */
const BAR_MAX_DB = 60;

function Bar({ db, label }: { db: number | null; label: string }) {
  if (db === null) return <span className="debug-bar empty">—</span>;
  const w = Number.isFinite(db) ? Math.max(0, Math.min(1, db / BAR_MAX_DB)) : db > 0 ? 1 : 0;
  return (
    <span className="debug-bar" title={db === Infinity ? `${label}: exact (no error)` : `${label}: ${formatDb(db)} dB`}>
      <i style={{ width: `${(100 * w).toFixed(1)}%`, background: sqnrColour(db) }} />
      <span>{formatDb(db)}</span>
    </span>
  );
}

function Row({
  t,
  first,
  selected,
  canSelect,
}: {
  t: TensorError;
  first: boolean;
  selected: boolean;
  canSelect: boolean;
}) {
  const store = useAppStore();
  return (
    <tr
      className={`${first ? 'first-divergence' : ''} ${selected ? 'selected' : ''}`}
      data-tensor={t.tensor}
      data-first-divergence={first ? 'true' : undefined}
      onClick={canSelect ? () => store.getState().selectTensor(t.tensor) : undefined}
    >
      <td className="debug-name" title={`${t.tensor} (${t.opType} ${t.node})`}>
        {first && <b className="warn-text">▶ </b>}
        <span className="mono">{t.tensor}</span>
        <span className="muted small"> {t.opType}</span>
      </td>
      <td>
        <Bar db={t.own?.sqnrDb ?? null} label="own SQNR" />
      </td>
      <td>
        <Bar db={t.accumulated.sqnrDb} label="accumulated SQNR" />
      </td>
      <td className="num">{t.accumulated.cosine.toFixed(4)}</td>
    </tr>
  );
}

export function DebugList({ result }: { result: DebugResult }) {
  const selected = useApp((s) => s.selectedTensor);
  const stats = useApp((s) => s.calibration.stats);
  const acts = result.tensors.filter((t) => t.kind === 'activation');
  const weights = result.tensors.filter((t) => t.kind === 'weight');
  const constants = result.tensors.filter((t) => t.kind === 'constant');
  const first = result.tensors.find((t) => t.tensor === result.firstDivergence && t.kind === 'activation');
  const low = acts.filter((t) => t.accumulated.sqnrDb < SQNR_GOOD_DB / 2).length;
  return (
    <div className="debug-list" data-testid="debug-list">
      <p className="small" data-testid="debug-summary">
        {acts.length} activations, {weights.length} weights
        {constants.length > 0 && ` and ${constants.length} constants`} over {result.samples} samples; {low} activations
        below {SQNR_GOOD_DB / 2} dB accumulated.{' '}
        {first && (
          <span data-testid="first-divergence">
            First divergence: <b className="mono">{first.tensor}</b> ({first.opType} {first.node}), where accumulated
            SQNR falls {formatDb(first.dropDb ?? NaN)} dB below the quantized tensors feeding it.
          </span>
        )}
      </p>
      <div className="debug-table-box">
        <table className="debug-table">
          <thead>
            <tr>
              <th>tensor (graph order)</th>
              <th title="the tensor against its own quantize → dequantize: what this range costs alone">
                own SQNR, dB
              </th>
              <th title="the float model's tensor against the quantized model's: what reaches it from upstream">
                accumulated SQNR, dB
              </th>
              <th>cosine</th>
            </tr>
          </thead>
          <tbody>
            {acts.map((t) => (
              <Row
                key={t.tensor}
                t={t}
                first={t === first}
                selected={t.tensor === selected}
                canSelect={Boolean(stats?.[t.tensor])}
              />
            ))}
            {weights.length > 0 && (
              <tr className="debug-section">
                <th colSpan={4}>Weights: float against dequantized</th>
              </tr>
            )}
            {weights.map((t) => (
              <Row key={`${t.node}:${t.tensor}`} t={t} first={false} selected={false} canSelect={false} />
            ))}
            {constants.length > 0 && (
              <tr className="debug-section">
                <th colSpan={4}>
                  Constants (an op&apos;s constant input, quantized like an activation): float against dequantized
                </th>
              </tr>
            )}
            {constants.map((t) => (
              <Row key={`${t.node}:${t.tensor}`} t={t} first={false} selected={false} canSelect={false} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
