import { useMemo } from 'react';
import type { IntDType } from '../core/dtype';
import type { RangeMethod } from '../core/methods';
import { appStore, useApp } from './useApp';

const ACT_DTYPES: IntDType[] = ['int8', 'uint8'];

/** Model-level and per-op-type choices. Changing one re-derives scales from the kept statistics. */
export function ChoicesPanel() {
  const model = useApp((s) => s.model);
  const config = useApp((s) => s.config);
  const opTypes = useMemo(() => [...new Set(model?.plan.nodes.map((n) => n.opType) ?? [])].sort(), [model]);
  if (!model) return null;
  const set = appStore.getState().setConfig;
  return (
    <section className="card" data-testid="choices-panel">
      <h2>Choices</h2>
      <div className="row">
        <label>
          Activations{' '}
          <select
            aria-label="Activation dtype"
            value={config.activations.dtype}
            onChange={(e) => set((c) => ({ ...c, activations: { ...c.activations, dtype: e.target.value as IntDType } }))}
          >
            {ACT_DTYPES.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            aria-label="Symmetric activations"
            checked={config.activations.symmetric}
            onChange={(e) => set((c) => ({ ...c, activations: { ...c.activations, symmetric: e.target.checked } }))}
          />{' '}
          symmetric
        </label>
        <label>
          Range{' '}
          <select
            aria-label="Range method"
            value={config.activations.method ?? 'minmax'}
            onChange={(e) => set((c) => ({ ...c, activations: { ...c.activations, method: e.target.value as RangeMethod } }))}
          >
            <option value="minmax">min-max</option>
            <option value="percentile">percentile</option>
            <option value="entropy">entropy (KL)</option>
            <option value="mse">MSE (L2)</option>
          </select>
        </label>
        {config.activations.method === 'percentile' && (
          <label>
            keep{' '}
            <input
              aria-label="Percentile"
              className="num"
              type="number"
              step="0.001"
              min={50}
              max={100}
              value={config.activations.percentile ?? 99.999}
              onChange={(e) => set((c) => ({ ...c, activations: { ...c.activations, percentile: Math.min(100, Math.max(50, Number(e.target.value))) } }))}
            />
            %
          </label>
        )}
        <label>
          Weights (int8){' '}
          <select
            aria-label="Model weight granularity"
            value={config.weights.perChannel ? 'channel' : 'tensor'}
            onChange={(e) => set((c) => ({ ...c, weights: { ...c.weights, perChannel: e.target.value === 'channel' } }))}
          >
            <option value="channel">per channel</option>
            <option value="tensor">per tensor</option>
          </select>
        </label>
      </div>
      <table className="io small-table">
        <thead>
          <tr>
            <th>op type</th>
            <th>nodes</th>
            <th>keep float</th>
            <th>weights</th>
          </tr>
        </thead>
        <tbody>
          {opTypes.map((op) => {
            const o = config.opTypes?.[op] ?? {};
            const count = model.plan.nodes.filter((n) => n.opType === op).length;
            const put = (next: typeof o) => set((c) => ({ ...c, opTypes: { ...c.opTypes, [op]: { ...c.opTypes?.[op], ...next } } }));
            return (
              <tr key={op} data-testid={`optype-${op}`}>
                <td>{op}</td>
                <td>{count}</td>
                <td>
                  <input type="checkbox" aria-label={`Keep ${op} float`} checked={o.exclude === true} onChange={(e) => put({ exclude: e.target.checked })} />
                </td>
                <td>
                  {model.plan.nodes.some((n) => n.opType === op && n.weight) ? (
                    <select
                      aria-label={`${op} weight granularity`}
                      value={o.weights?.perChannel === undefined ? 'default' : o.weights.perChannel ? 'channel' : 'tensor'}
                      onChange={(e) => put({ weights: e.target.value === 'default' ? {} : { perChannel: e.target.value === 'channel' } })}
                    >
                      <option value="default">model default</option>
                      <option value="channel">per channel</option>
                      <option value="tensor">per tensor</option>
                    </select>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
