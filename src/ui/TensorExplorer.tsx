import { useDeferredValue, useMemo, useState, type ReactNode } from 'react';
import { activationConfigFor } from '../core/config';
import { finalizeMinMax, isNonFinite } from '../core/minmax';
import { activationQParams } from '../core/qparams';
import { formatNumber } from './format';
import { HistogramChart } from './HistogramChart';
import { appStore, useApp } from './useApp';

const ROW_HEIGHT = 44;

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
  if (!stats || !model) return null;
  const shown = names.filter((n) => n.toLowerCase().includes(filter.toLowerCase()));
  const sel = selected && stats[selected] ? stats[selected] : undefined;
  const range = sel && !isNonFinite(sel.minmax) ? finalizeMinMax(sel.minmax) : null;
  const producer = selected ? model.prepared.graph!.node.find((n) => n.output.includes(selected)) : undefined;
  const act = selected ? activationConfigFor(config, selected, producer?.opType) : config.activations;
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
              <HistogramChart histogram={sel.histogram} range={range ? { label: 'min-max', ...range } : null} logScale={logScale} />
              {range && qp && (
                <p data-testid="tensor-range">
                  min-max range [{formatNumber(range.rmin)}, {formatNumber(range.rmax)}] → {act.dtype} {act.symmetric ? 'symmetric' : 'asymmetric'}: scale{' '}
                  <span data-testid="tensor-scale">{qp.scale.toPrecision(9)}</span>, zero point <span data-testid="tensor-zero-point">{qp.zeroPoint}</span>
                </p>
              )}
              <div className="row small">
                <span className="muted">This tensor:</span>
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
