import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { activationConfigFor } from '../core/config';
import { formatDb, formatNumber } from './format';
import { TensorDetail } from './TensorDetail';
import { useTensorMetrics, type TensorMetrics } from './useTensorMetrics';
import { useAfterATask } from './useStagedCount';
import { useApp, useAppStore } from './useApp';
import { WeightExplorer } from './WeightExplorer';
import { isNonFinite } from '../core/minmax';
import { variantOf } from '../core/methods';

const ROW_HEIGHT = 44;

/** A list that renders only the rows in view, so models with thousands of tensors scroll smoothly. */
function VirtualList({
  items,
  rowHeight,
  height,
  render,
  testId,
}: {
  items: readonly string[];
  rowHeight: number;
  height: number;
  render: (item: string) => ReactNode;
  testId: string;
}) {
  const [top, setTop] = useState(0);
  const first = Math.max(0, Math.floor(top / rowHeight) - 4);
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + 4);
  return (
    <div className="vlist" style={{ height }} onScroll={(e) => setTop(e.currentTarget.scrollTop)} data-testid={testId}>
      <ul style={{ height: items.length * rowHeight, position: 'relative' }}>
        {items.slice(first, last).map((item, k) => (
          <li
            key={item}
            style={{ position: 'absolute', top: (first + k) * rowHeight, height: rowHeight, left: 0, right: 0 }}
          >
            {render(item)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The height of an element as laid out (the list fills its pane, whatever the window's size). */
function useHeight<T extends HTMLElement>(fallback: number, shown: boolean): [React.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [h, setH] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setH(Math.max(200, Math.floor(el.getBoundingClientRect().height))));
    ro.observe(el);
    return () => ro.disconnect();
  }, [shown]);
  return [ref, h];
}

/** The next tensor for an arrow key (up/down one, page up/down ten, home/end), or null for other keys. */
function stepTensor(key: string, shown: readonly string[], current: string | null): string | null {
  if (!shown.length) return null;
  const i = current === null ? -1 : shown.indexOf(current);
  const to: Record<string, number> = {
    ArrowDown: i + 1,
    ArrowUp: i - 1,
    PageDown: i + 10,
    PageUp: i - 10,
    Home: 0,
    End: shown.length - 1,
  };
  const j = to[key];
  if (j === undefined) return null;
  return shown[Math.min(shown.length - 1, Math.max(0, j))]!;
}

type SortKey = 'graph' | 'name' | 'error' | 'range' | 'outliers';
const SORT_LABEL: Record<SortKey, string> = {
  graph: 'graph order',
  name: 'name',
  error: 'error (worst first)',
  range: 'range (widest first)',
  outliers: 'outlier ratio',
};

/** Sorting keys where larger sorts first; tensors without a figure (NaN/Inf, not yet computed) go last. */
function sortNames(
  names: readonly string[],
  key: SortKey,
  metrics: ReadonlyMap<string, TensorMetrics | null>,
): string[] {
  if (key === 'graph') return [...names];
  if (key === 'name') return [...names].sort((a, b) => a.localeCompare(b));
  const value = (t: string): number | undefined => {
    const m = metrics.get(t);
    if (!m) return undefined;
    return key === 'error' ? -m.sqnrDb : key === 'range' ? m.width : m.outlierRatio;
  };
  return [...names].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === undefined || vb === undefined) return va === undefined ? (vb === undefined ? 0 : 1) : -1;
    return vb - va;
  });
}

export function TensorExplorer() {
  const store = useAppStore();
  // Deferred: drawing 200+ tensors and a chart is done in an interruptible render, so the page's
  // thread never blocks for long when the statistics arrive.
  const stats = useDeferredValue(useApp((s) => s.calibration.stats));
  const selected = useApp((s) => s.selectedTensor);
  const model = useApp((s) => s.model);
  const config = useApp((s) => s.config);
  const [tab, setTab] = useState<'activations' | 'weights'>('activations');
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<SortKey>('graph');
  const producers = useMemo(
    () => new Map(model?.prepared.graph!.node.flatMap((n) => n.output.map((o) => [o, n] as const)) ?? []),
    [model],
  );
  const producerOf = useCallback((t: string) => producers.get(t)?.opType, [producers]);
  const metrics = useTensorMetrics(stats, config, producerOf);
  // fresh statistics: the list first, the chart (recharts measures its tick labels in the DOM) a task later
  const detailReady = useAfterATask(stats);
  const names = useMemo(() => (stats ? Object.keys(stats) : []), [stats]);
  const [listBox, listHeight] = useHeight<HTMLDivElement>(520, stats !== null && tab === 'activations');
  if (!stats || !model) return null;
  const shown = sortNames(
    names.filter((n) => n.toLowerCase().includes(filter.toLowerCase())),
    sort,
    metrics,
  );
  const sel = selected && stats[selected] ? stats[selected] : undefined;
  return (
    <section className="card explorer-card" data-testid="tensor-explorer">
      <div className="tabs" role="tablist">
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'activations'}
          className={tab === 'activations' ? 'selected' : ''}
          onClick={() => setTab('activations')}
        >
          Activations ({names.length})
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'weights'}
          className={tab === 'weights' ? 'selected' : ''}
          onClick={() => setTab('weights')}
        >
          Weights ({model.plan.nodes.filter((n) => n.weight).length})
        </button>
      </div>
      {tab === 'weights' ? (
        <WeightExplorer />
      ) : (
        <div className="explorer">
          <div
            className="tensor-list"
            onKeyDown={(e) => {
              if ((e.target as HTMLElement).tagName === 'INPUT' || (e.target as HTMLElement).tagName === 'SELECT')
                return;
              const next = stepTensor(e.key, shown, selected);
              if (!next) return;
              e.preventDefault();
              const box = e.currentTarget;
              store.getState().selectTensor(next);
              // keep the chosen row in view and focused, so the keys keep working
              requestAnimationFrame(() => {
                const list = box.querySelector<HTMLElement>('[data-testid="tensor-list"]');
                const i = shown.indexOf(next);
                if (
                  list &&
                  (i * ROW_HEIGHT < list.scrollTop || (i + 1) * ROW_HEIGHT > list.scrollTop + list.clientHeight)
                )
                  list.scrollTop = Math.max(0, i * ROW_HEIGHT - list.clientHeight / 2);
                requestAnimationFrame(() =>
                  list?.querySelector<HTMLElement>(`[data-tensor="${CSS.escape(next)}"]`)?.focus(),
                );
              });
            }}
          >
            <input
              placeholder={`Filter ${names.length} tensors`}
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
              aria-label="Filter tensors"
            />
            <label className="inline small">
              sort by{' '}
              <select aria-label="Sort tensors" value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
                {(Object.keys(SORT_LABEL) as SortKey[]).map((k) => (
                  <option key={k} value={k}>
                    {SORT_LABEL[k]}
                  </option>
                ))}
              </select>
            </label>
            <div className="vlist-box" ref={listBox}>
              <VirtualList
                items={shown}
                rowHeight={ROW_HEIGHT}
                height={listHeight}
                testId="tensor-list"
                render={(n) => {
                  const s = stats[n]!;
                  const bad = isNonFinite(s.minmax);
                  const m = metrics.get(n);
                  const act = activationConfigFor(config, n, producerOf(n));
                  const figure = !m
                    ? ''
                    : sort === 'outliers'
                      ? `outliers ×${formatNumber(m.outlierRatio)}`
                      : `${Number.isFinite(m.sqnrDb) ? m.sqnrDb.toFixed(1) : formatDb(m.sqnrDb)} dB`;
                  return (
                    <button
                      type="button"
                      className={n === selected ? 'selected' : ''}
                      onClick={() => store.getState().selectTensor(n)}
                      title={n}
                      data-tensor={n}
                    >
                      <span className="name">{n}</span>
                      <span className="row-figures">
                        <span className={bad ? 'badge warn' : 'badge'} data-testid="row-range">
                          {bad ? 'NaN/Inf: float' : `${formatNumber(s.minmax.min)} … ${formatNumber(s.minmax.max)}`}
                        </span>
                        {!bad && (
                          <span className="badge subtle">
                            {act.range ? 'manual' : variantOf(act.method, act).label.split(' (')[0]}
                          </span>
                        )}
                        <span className="figure" data-testid="row-figure">
                          {figure}
                        </span>
                      </span>
                    </button>
                  );
                }}
              />
            </div>
            <p className="muted small keys-hint">↑ ↓ move through the tensors</p>
          </div>
          <div className="tensor-detail">
            {sel && selected && !detailReady ? (
              <p className="muted">Drawing the histogram…</p>
            ) : sel && selected ? (
              <TensorDetail tensor={selected} stats={sel} producer={producers.get(selected)} />
            ) : (
              <p>Pick a tensor.</p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
