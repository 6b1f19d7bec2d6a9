import { useState } from 'react';
import type { IoInfo } from '../onnx';
import { formatBytes, formatCount, formatShape } from './format';
import { useApp, useAppStore } from './useApp';

function IoRows({ kind, values }: { kind: 'input' | 'output'; values: readonly IoInfo[] }) {
  return (
    <>
      {values.map((v) => (
        <tr key={`${kind}-${v.name}`} data-testid={`model-${kind}`}>
          <td>{kind}</td>
          <td>{v.name}</td>
          <td>{v.dtype}</td>
          <td>{formatShape(v.shape)}</td>
        </tr>
      ))}
    </>
  );
}

/** Op types with their counts, as chips. */
function CountChips({
  counts,
  testId,
  small = false,
}: {
  counts: readonly [string, number][];
  testId: string;
  small?: boolean;
}) {
  return (
    <ul className={small ? 'chips small' : 'chips'} data-testid={testId}>
      {counts.map(([op, n]) => (
        <li key={op}>
          {op} <b>{n}</b>
        </li>
      ))}
    </ul>
  );
}

/**
 * Control flow that branches on a scalar input (Silero VAD's `sr`): fixing the input folds the
 * branch away, so that what it holds can be calibrated and quantized.
 */
function FixInputs() {
  const store = useAppStore();
  const model = useApp((st) => st.model)!;
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  return (
    <div className="fix-inputs" data-testid="fix-inputs">
      <h3>Inputs the graph branches on</h3>
      <p className="muted small">
        This model has If/Loop nodes. Fix an input to the value you deploy with: Ifs whose condition then becomes known
        fold to one branch (the input stays, so callers that feed it still work).
      </p>
      {model.fixableInputs.map((name) => {
        const fixed = model.fixedInputs[name];
        return (
          <div className="row small" key={name}>
            <code>{name}</code>
            <input
              aria-label={`Fix ${name}`}
              className="num"
              type="number"
              step={1}
              value={drafts[name] ?? (fixed !== undefined ? String(fixed) : '')}
              placeholder="value"
              onChange={(e) => setDrafts({ ...drafts, [name]: e.target.value })}
            />
            <button
              type="button"
              disabled={!Number.isInteger(Number(drafts[name] ?? fixed)) || (drafts[name] ?? '').trim() === ''}
              onClick={() => store.getState().fixInput(name, Number(drafts[name]))}
            >
              Fix and prepare again
            </button>
            {fixed !== undefined && (
              <button type="button" className="link" onClick={() => store.getState().fixInput(name, null)}>
                free it
              </button>
            )}
          </div>
        );
      })}
    </div>
  );
}

export function ModelSummaryView() {
  const model = useApp((s) => s.model);
  if (!model) return null;
  const s = model.summary;
  const ops = Object.entries(s.opCounts).sort((a, b) => b[1] - a[1]);
  const floatOps = Object.entries(s.floatOps).sort((a, b) => b[1] - a[1]);
  return (
    <section className="card" data-testid="model-summary" id="step-model">
      <h2>
        {s.fileName} <span className="muted">{formatBytes(s.fileBytes)}</span>
      </h2>
      <dl className="facts">
        <dt>Opset</dt>
        <dd data-testid="opset">{s.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}</dd>
        <dt>IR version</dt>
        <dd data-testid="ir-version">{s.irVersion}</dd>
        <dt>Parameters</dt>
        <dd data-testid="params">
          {formatCount(s.parameterCount)} ({formatBytes(s.parameterBytes)})
        </dd>
        <dt>Nodes</dt>
        <dd>{s.nodeCount}</dd>
        {s.producer && (
          <>
            <dt>Producer</dt>
            <dd>{s.producer}</dd>
          </>
        )}
      </dl>
      <table className="io">
        <thead>
          <tr>
            <th />
            <th>name</th>
            <th>dtype</th>
            <th>shape</th>
          </tr>
        </thead>
        <tbody>
          <IoRows kind="input" values={s.inputs} />
          <IoRows kind="output" values={s.outputs} />
        </tbody>
      </table>
      <h3>Operators</h3>
      <CountChips counts={ops} testId="op-counts" />
      {model.fixableInputs.length > 0 && <FixInputs />}
      {s.preparation.length > 0 && (
        <>
          <h3>Graph preparation</h3>
          <ul className="log" data-testid="preparation">
            {s.preparation.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
        </>
      )}
      <details>
        <summary data-testid="quantized-count">
          {s.quantizedNodes.length} nodes will be quantized; {floatOps.reduce((a, [, n]) => a + n, 0)} stay float
        </summary>
        <p className="muted">Quantized (int8 QDQ):</p>
        <ul className="chips small">
          {s.quantizedNodes.map((n) => (
            <li key={n.name} title={n.opType}>
              {n.name}
            </li>
          ))}
        </ul>
        <p className="muted">
          Left float (the quantizer does not handle these ops, or shares their range with a neighbour):
        </p>
        <CountChips counts={floatOps} testId="float-ops" small />
        {s.floatNodes.length > 0 && (
          <ul className="log">
            {s.floatNodes.map((n) => (
              <li key={n.name}>
                {n.name} ({n.opType}): {n.reason}
              </li>
            ))}
          </ul>
        )}
      </details>
    </section>
  );
}
