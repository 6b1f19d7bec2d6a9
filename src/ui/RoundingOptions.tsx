/**
 * How weight-only weights are rounded (the model-level choice; op-type and node overrides live in the
 * configuration like every other choice): to nearest, GPTQ or AdaRound, and, after an export, each
 * rounded layer's calibration loss against round-to-nearest's and the time it took.
 */
import type { WeightAlgorithm } from '../core/config';
import type { ExportResult } from '../state/types';
import { useApp, useAppStore } from './useApp';

const ALGORITHMS: [WeightAlgorithm, string][] = [
  ['rtn', 'round to nearest'],
  ['gptq', 'GPTQ (needs data)'],
  ['adaround', 'AdaRound (needs data)'],
];

export function RoundingChoice() {
  const algorithm = useApp((s) => s.config.weights.algorithm ?? 'rtn');
  const store = useAppStore();
  return (
    <label title="GPTQ and AdaRound round each weight from its layer's inputs on your samples (the data step)">
      rounding{' '}
      <select
        aria-label="Weight rounding"
        value={algorithm}
        onChange={(e) =>
          store.getState().editConfig({ kind: 'weights', set: { algorithm: e.target.value as WeightAlgorithm } })
        }
      >
        {ALGORITHMS.map(([a, label]) => (
          <option key={a} value={a}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * The Choices table's per-op-type rounding (an op-type override of `weights.algorithm`, weight-only forms).
 * Its label does not contain the model-level select's "Weight rounding" (Playwright's getByLabel matches substrings).
 */
export function OpTypeRounding({ opType }: { opType: string }) {
  const own = useApp((s) => s.config.opTypes?.[opType]?.weights?.algorithm);
  const store = useAppStore();
  return (
    <select
      aria-label={`Rounding of ${opType} weights`}
      title="How weight-only exports round this op type's weights (GPTQ and AdaRound need data)"
      value={own ?? 'default'}
      onChange={(e) =>
        store.getState().editConfig({
          kind: 'op-type',
          opType,
          set: {
            weights: { algorithm: e.target.value === 'default' ? undefined : (e.target.value as WeightAlgorithm) },
          },
        })
      }
    >
      <option value="default">model default</option>
      {ALGORITHMS.map(([a, label]) => (
        <option key={a} value={a}>
          {label}
        </option>
      ))}
    </select>
  );
}

export function RoundingReport({ exported }: { exported: ExportResult }) {
  const r = exported.rounding;
  if (!r) return null;
  const total = r.layers.reduce((t, l) => t + l.seconds, 0);
  return (
    <details data-testid="rounding-report">
      <summary>
        {r.layers.length} weights rounded by {[...new Set(r.layers.map((l) => l.algorithm))].join(', ')} in{' '}
        {total.toFixed(1)} s; calibration loss below round-to-nearest&apos;s on{' '}
        {r.layers.filter((l) => l.loss < l.lossRtn).length}
      </summary>
      <table className="small">
        <thead>
          <tr>
            <th>node</th>
            <th>loss, round to nearest</th>
            <th>loss, rounded</th>
            <th>ratio</th>
            <th>time</th>
          </tr>
        </thead>
        <tbody>
          {r.layers.map((l) => (
            <tr key={l.node}>
              <td>{l.node}</td>
              <td>{l.lossRtn.toExponential(3)}</td>
              <td>{l.loss.toExponential(3)}</td>
              <td>{l.lossRtn > 0 ? (l.loss / l.lossRtn).toFixed(3) : '—'}</td>
              <td>{l.seconds.toFixed(2)} s</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** The Weights tab: this node's rounding (an override like any other choice) and, after an export, its error before and after. */
export function NodeRounding({ node }: { node: string }) {
  const own = useApp((s) => s.config.nodes?.[node]?.weights?.algorithm);
  const layer = useApp((s) => s.exported?.rounding?.layers.find((l) => l.node === node));
  const store = useAppStore();
  return (
    <div className="row small" data-testid="node-rounding">
      <label>
        rounding (weight-only){' '}
        <select
          aria-label="Node weight rounding"
          value={own ?? 'default'}
          onChange={(e) =>
            store.getState().editConfig({
              kind: 'node',
              node,
              weights: { algorithm: e.target.value === 'default' ? undefined : (e.target.value as WeightAlgorithm) },
            })
          }
        >
          <option value="default">model&apos;s choice</option>
          {ALGORITHMS.map(([a, label]) => (
            <option key={a} value={a}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {layer && (
        <span data-testid="node-rounding-error">
          {layer.algorithm}: calibration loss {layer.lossRtn.toExponential(3)} (round to nearest) →{' '}
          {layer.loss.toExponential(3)} ({layer.lossRtn > 0 ? (layer.loss / layer.lossRtn).toFixed(3) : '—'}×), in{' '}
          {layer.seconds.toFixed(2)} s
        </span>
      )}
    </div>
  );
}
