import { useDeferredValue, useEffect, useMemo, useState, type ReactNode } from 'react';
import { activationConfigFor } from '../core/config';
import { histogramRangeError, methodRange, RANGE_METHODS, type RangeMethod } from '../core/methods';
import { finalizeMinMax, isNonFinite } from '../core/minmax';
import { activationQParams } from '../core/qparams';
import { formatNumber } from './format';
import { HistogramChart } from './HistogramChart';
import { appStore, useApp } from './useApp';

const ROW_HEIGHT = 44;

export const METHOD_LABEL: Record<RangeMethod, string> = { minmax: 'min-max', percentile: 'percentile', entropy: 'entropy (KL)', mse: 'MSE (L2)' };
const METHOD_COLOR: Record<RangeMethod, string> = { minmax: '#7a869a', percentile: '#2a9d8f', entropy: '#e9a23b', mse: '#8e5cd9' };

/** A list that renders only the rows in view, so models with thousands of tensors scroll smoothly. */
function VirtualList({ items, rowHeight, height, render, testId }: { items: readonly string[]; rowHeight: number; height: number; render: (item: string) => ReactNode; testId: string }) {
  const [top, setTop] = useState(0);
  const first = Math.max(0, Math.floor(top / rowHeight) - 4);
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + 4);
  return (
    <div className="vlist" style={{ height }} onScroll={(e) => setTop(e.currentTarget.scrollTop)} data-testid={testId}>
      <ul style={{ height: items.length * rowHeight, position: 'relative' }}>
        {items.slice(first, last).map((item, k) => (
          <li key={item} style={{ position: 'absolute', top: (first + k) * rowHeight, height: rowHeight, left: 0, right: 0 }}>
            {render(item)}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function TensorExplorer() {
  // Deferred: drawing 200+ tensors and a chart is done in an interruptible render, so the page's
  // thread never blocks for long when the statistics arrive.
  const stats = useDeferredValue(useApp((s) => s.calibration.stats));
  const selected = useApp((s) => s.selectedTensor);
  const model = useApp((s) => s.model);
  const config = useApp((s) => s.config);
  const [filter, setFilter] = useState('');
  const [logScale, setLogScale] = useState(true);
  const names = useMemo(() => (stats ? Object.keys(stats) : []), [stats]);
  const sel = stats && selected && stats[selected] ? stats[selected] : undefined;
  const finite = sel && !isNonFinite(sel.minmax) ? finalizeMinMax(sel.minmax) : null;
  const producer = selected && model ? model.prepared.graph!.node.find((n) => n.output.includes(selected)) : undefined;
  const act = selected ? activationConfigFor(config, selected, producer?.opType) : config.activations;
  const method = act.method ?? 'minmax';
  // Every method's range on this tensor, and what each costs (estimated from the histogram).
  // The entropy and MSE searches cost tens of ms (entropy is O(bins²)): they run after the frame
  // that shows the tensor, never inside it, and their rows fill in when done.
  type Searched = { for: unknown; entropy: { rmin: number; rmax: number }; mse: { rmin: number; rmax: number } };
  const [searched, setSearched] = useState<Searched | null>(null);
  useEffect(() => {
    if (!sel || !finite) return;
    const id = setTimeout(() => setSearched({ for: sel, entropy: methodRange(sel, 'entropy'), mse: methodRange(sel, 'mse') }), 30);
    return () => clearTimeout(id);
  }, [sel, finite]);
  const methods = useMemo(
    () =>
      sel && finite
        ? RANGE_METHODS.flatMap((m) => {
            const late = searched?.for === sel ? searched : null;
            const r = m === 'entropy' || m === 'mse' ? (late?.[m] ?? null) : methodRange(sel, m, { percentile: act.percentile });
            return r ? [{ method: m, ...r, error: histogramRangeError(sel.histogram, r.rmin, r.rmax, act.dtype, act.symmetric) }] : [];
          })
        : [],
    [sel, finite, act.dtype, act.symmetric, act.percentile, searched],
  );
  if (!stats || !model) return null;
  const shown = names.filter((n) => n.toLowerCase().includes(filter.toLowerCase()));
  const chosen = methods.find((m) => m.method === method);
  const range = chosen ? { rmin: chosen.rmin, rmax: chosen.rmax } : null;
  const qp = range ? activationQParams(range.rmin, range.rmax, act.dtype, { symmetric: act.symmetric }) : null;
  const override = selected ? config.tensors?.[selected]?.activations : undefined;
  const setOverride = (next: Partial<typeof act> | null) =>
    appStore.getState().setConfig((c) => {
      const tensors = { ...c.tensors };
      if (next === null) delete tensors[selected!];
      else tensors[selected!] = { activations: { ...tensors[selected!]?.activations, ...next } };
      return { ...c, tensors };
    });
  return (
    <section className="card" data-testid="tensor-explorer">
      <h2>4 · Tensors</h2>
      <div className="explorer">
        <div className="tensor-list">
          <input placeholder={`Filter ${names.length} tensors`} value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter tensors" />
          <VirtualList
            items={shown}
            rowHeight={ROW_HEIGHT}
            height={420}
            testId="tensor-list"
            render={(n) => {
              const s = stats[n]!;
              const bad = isNonFinite(s.minmax);
              return (
                <button type="button" className={n === selected ? 'selected' : ''} onClick={() => appStore.getState().selectTensor(n)} title={n}>
                  <span className="name">{n}</span>
                  <span className={bad ? 'badge warn' : 'badge'}>{bad ? 'NaN/Inf: float' : `${formatNumber(s.minmax.min)} … ${formatNumber(s.minmax.max)}`}</span>
                </button>
              );
            }}
          />
        </div>
        <div className="tensor-detail">
          {sel && selected ? (
            <>
              <h3 data-testid="selected-tensor">{selected}</h3>
              <p className="muted">
                {producer ? `output of ${producer.opType} "${producer.name}"` : 'graph input'} · {sel.minmax.count.toLocaleString()} values over{' '}
                {model.plan.activations.length ? 'all samples' : ''}
              </p>
              <label className="inline">
                <input type="checkbox" checked={logScale} onChange={(e) => setLogScale(e.target.checked)} /> log counts
              </label>
              {sel.histogram.rebinned > 0 && (
                <p className="warn-text" data-testid="rebinned">
                  This tensor's range grew more than 16-fold during calibration: its histogram was re-binned to {sel.histogram.binCount} bins, so its
                  counts are approximate (its min/max are exact).
                </p>
              )}
              <HistogramChart
                histogram={sel.histogram}
                range={range ? { label: METHOD_LABEL[method], ...range } : null}
                others={methods.filter((m) => m.method !== method).map((m) => ({ label: m.method, rmin: m.rmin, rmax: m.rmax, color: METHOD_COLOR[m.method] }))}
                logScale={logScale}
              />
              {methods.length > 0 && (
                <table className="io small-table" data-testid="method-table">
                  <thead>
                    <tr>
                      <th>method</th>
                      <th>range</th>
                      <th>scale</th>
                      <th>MSE</th>
                      <th>SQNR (dB)</th>
                    </tr>
                  </thead>
                  <tbody>
                    {methods.map((m) => (
                      <tr key={m.method} className={m.method === method ? 'chosen' : ''} data-testid={`method-${m.method}`}>
                        <td>
                          <span className="swatch" style={{ background: m.method === method ? '#d1495b' : METHOD_COLOR[m.method] }} /> {METHOD_LABEL[m.method]}
                        </td>
                        <td>
                          [{formatNumber(m.rmin)}, {formatNumber(m.rmax)}]
                        </td>
                        <td>{formatNumber(m.error.scale)}</td>
                        <td>{m.error.mse.toExponential(2)}</td>
                        <td data-testid={`sqnr-${m.method}`}>{m.error.sqnrDb.toFixed(2)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {range && qp && (
                <p data-testid="tensor-range">
                  {METHOD_LABEL[method]} range [{formatNumber(range.rmin)}, {formatNumber(range.rmax)}] → {act.dtype} {act.symmetric ? 'symmetric' : 'asymmetric'}: scale{' '}
                  <span data-testid="tensor-scale">{qp.scale.toPrecision(9)}</span>, zero point <span data-testid="tensor-zero-point">{qp.zeroPoint}</span>
                </p>
              )}
              <div className="row small">
                <span className="muted">This tensor:</span>
                <select
                  aria-label="Tensor method"
                  value={override?.method ?? 'default'}
                  onChange={(e) => setOverride(e.target.value === 'default' ? { method: undefined } : { method: e.target.value as RangeMethod })}
                >
                  <option value="default">model default method</option>
                  {RANGE_METHODS.map((m) => (
                    <option key={m} value={m}>
                      {METHOD_LABEL[m]}
                    </option>
                  ))}
                </select>
                <select
                  aria-label="Tensor dtype"
                  value={override?.dtype ?? 'default'}
                  onChange={(e) => setOverride(e.target.value === 'default' ? null : { dtype: e.target.value as 'int8' | 'uint8' })}
                >
                  <option value="default">model default</option>
                  <option value="int8">int8</option>
                  <option value="uint8">uint8</option>
                </select>
                <label>
                  <input
                    type="checkbox"
                    aria-label="Tensor symmetric"
                    checked={act.symmetric}
                    onChange={(e) => setOverride({ symmetric: e.target.checked })}
                  />{' '}
                  symmetric
                </label>
              </div>
              {!range && <p className="error">This tensor produced NaN or Infinity: it stays float in the export.</p>}
            </>
          ) : (
            <p>Pick a tensor.</p>
          )}
        </div>
      </div>
    </section>
  );
}
