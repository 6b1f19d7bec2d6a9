/**
 * Step 4, Tune: the target (metric, value, output), the run's progress, and after it what changed and
 * why, the metric and size before and after, and the Pareto plot of every configuration tried, where
 * any point can be picked. The choice is the page's configuration: the explorer shows its overrides and
 * Export writes it.
 */
import { recurrentPairs } from '../core/guard';
import { floatModelBytes } from '../state/exportResult';
import { configChanges, type ConfigChange } from '../state/tuneChanges';
import { targetLabel, type Target, type TuneSummary } from '../state/tuneSlice';
import { ErrorBanner } from './ErrorBanner';
import { formatBytes } from './format';
import { ParetoPlot } from './ParetoPlot';
import { formatTuneValue } from './TuneFormat';
import { useApp, useAppStore } from './useApp';

type MetricChoice = 'default' | Target['metric'];

const DEFAULT_VALUE: Record<Target['metric'], number> = { top1: 0.99, sqnr: 30, 'task-drop': 0.015 };

function TargetControls({ disabled }: { disabled: boolean }) {
  const store = useAppStore();
  const model = useApp((s) => s.model)!;
  const target = useApp((s) => s.tuneTarget);
  const output = useApp((s) => s.tuneOutput);
  const chained = new Set(recurrentPairs(model.summary.inputs, model.summary.outputs).map((c) => c.output));
  const outputs = model.summary.outputs.filter((o) => !chained.has(o.name));
  const choice: MetricChoice = target?.metric ?? 'default';
  return (
    <div className="row tune-target" data-testid="tune-target">
      <label>
        Target{' '}
        <select
          aria-label="Target metric"
          value={choice}
          disabled={disabled}
          onChange={(e) => {
            const m = e.target.value as MetricChoice;
            store.getState().setTuneTarget(m === 'default' ? null : { metric: m, value: DEFAULT_VALUE[m] });
          }}
        >
          <option value="default">default for the output</option>
          <option value="top1">top-1 agreement at least</option>
          <option value="sqnr">output SQNR at least (dB)</option>
          {model.isSample && model.ocr && (
            <option value="task-drop">
              {model.ocr === 'rec' ? 'character accuracy' : 'box F1'} drop at most (points)
            </option>
          )}
        </select>
      </label>
      {target && (
        <input
          type="number"
          aria-label="Target value"
          value={target.metric === 'task-drop' ? Math.round(target.value * 1e4) / 100 : target.value}
          step={target.metric === 'top1' ? 0.005 : target.metric === 'task-drop' ? 0.5 : 1}
          min={target.metric === 'top1' ? 0 : undefined}
          max={target.metric === 'top1' ? 1 : undefined}
          disabled={disabled}
          onChange={(e) => {
            const v = Number(e.target.value);
            if (Number.isFinite(v))
              store.getState().setTuneTarget({ ...target, value: target.metric === 'task-drop' ? v / 100 : v });
          }}
          style={{ width: 80 }}
        />
      )}
      <label>
        on{' '}
        <select
          aria-label="Target output"
          value={output ?? ''}
          disabled={disabled}
          onChange={(e) => store.getState().setTuneOutput(e.target.value || null)}
        >
          <option value="">{outputs[0] ? `${outputs[0].name} (first output)` : 'the first output'}</option>
          {outputs.slice(1).map((o) => (
            <option key={o.name} value={o.name}>
              {o.name}
            </option>
          ))}
        </select>
      </label>
      {!target && (
        <p className="muted">
          Default: top-1 agreement of at least 0.99 where the output has a class axis (its last, on [N, C] or [N, T,
          C]), else output SQNR of at least 30 dB.{chained.size > 0 && ' Recurrent state outputs never count.'}
        </p>
      )}
    </div>
  );
}

function TuneProgressBar() {
  const p = useApp((s) => s.tuning.progress);
  const pct = p.total ? Math.round((100 * p.done) / p.total) : 0;
  return (
    <>
      <div
        className="progress"
        role="progressbar"
        aria-label="Tuning progress"
        aria-valuenow={pct}
        aria-valuemin={0}
        aria-valuemax={100}
        data-testid="tune-progress"
      >
        <div style={{ width: `${pct}%` }} />
        <span>
          {p.trials} configurations tried{p.total ? ` of about ${p.total}` : ''}
        </span>
      </div>
      <p className="muted" data-testid="tune-phase">
        {p.phase || 'starting'}
        {p.metric !== null &&
          p.target &&
          `: last ${formatTuneValue(p.target.metric, p.metric)}, target ${targetLabel(p.target)}`}
      </p>
    </>
  );
}

/** At most this many changes are listed at once; the rest open on demand (the side panel stays short). */
const SHOWN_CHANGES = 8;

/** What the configuration in use changed against the start, why, and the search's own steps with their metrics. */
function WhatChanged() {
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

/**
 * The written file's own numbers: the chosen configuration's bytes (as Export writes them) run in
 * onnxruntime on every held-out sample (runtime/tune/verify.ts). The search's value comes from the
 * switchboard (every op in float on dequantized values); it is shown beside only where it differs.
 */
function WrittenFile({ summary, frac }: { summary: TuneSummary; frac: (b: number) => string }) {
  const r = summary.result;
  const chosen = r.trials[summary.chosen]!;
  const f = summary.file!;
  const fmt = (v: number) => formatTuneValue(r.target.metric, v);
  const m = f.metrics;
  const also = [
    r.target.metric !== 'top1' && m.top1 !== null ? `top-1 agreement ${formatTuneValue('top1', m.top1)}` : null,
    r.target.metric !== 'sqnr' ? `output SQNR ${formatTuneValue('sqnr', m.sqnrDb)}` : null,
  ].filter((x): x is string => x !== null);
  return (
    <p data-testid="tune-file">
      Measured on the written file in onnxruntime ({m.samples} held-out sample{m.samples === 1 ? '' : 's'}):{' '}
      <b data-testid="tune-after">{fmt(f.value)}</b>
      {fmt(f.value) !== fmt(chosen.value) && (
        <span className="muted" data-testid="tune-switchboard">
          {' '}
          (the search measured {fmt(chosen.value)} on its switchboard model, which runs every op in float; the file runs
          onnxruntime&rsquo;s integer kernels)
        </span>
      )}
      {also.length > 0 && `, ${also.join(', ')}`}; size <b data-testid="tune-file-size">{formatBytes(f.bytes)}</b>,{' '}
      {frac(f.bytes)} of the float file.
    </p>
  );
}

function TuneResultView() {
  const store = useAppStore();
  const t = useApp((s) => s.tuning);
  const model = useApp((s) => s.model)!;
  const s = t.summary!;
  const r = s.result;
  const start = r.trials[0]!;
  const chosen = r.trials[s.chosen]!;
  const picked = t.picked !== null ? r.trials[t.picked]! : chosen;
  // the float model's files, its external data files included
  const floatBytes = floatModelBytes(model);
  const frac = (b: number) => `${((100 * b) / floatBytes).toFixed(1)}%`;
  const fmt = (v: number) => formatTuneValue(r.target.metric, v);
  // met where the written file meets it in onnxruntime, as the command line says it
  const met = chosen.meets && (s.file ? s.file.meets : true);
  return (
    <div data-testid="tune-result" data-met={String(met)}>
      <p>
        <b>
          {met ? 'Meets' : 'Misses'} {targetLabel(r.target)}
        </b>{' '}
        on output <code>{s.output}</code>: {fmt(start.value)} where the search started ({frac(start.bytes)} of the float
        file, estimated)
        {s.file ? (
          '.'
        ) : (
          <>
            {' '}
            → <b data-testid="tune-after">{fmt(chosen.value)}</b>, {frac(chosen.bytes)} (about{' '}
            {formatBytes(chosen.bytes)}).
          </>
        )}{' '}
        <span className="muted">
          {r.trials.length} configuration{r.trials.length === 1 ? '' : 's'} in {(r.elapsedMs / 1000).toFixed(1)} s,
          judged on {t.heldOutSource}.
        </span>
      </p>
      {s.file && <WrittenFile summary={s} frac={frac} />}
      <h3>What changed and why</h3>
      <WhatChanged />
      {s.refused.length > 0 && (
        <p className="warn-text" data-testid="tune-refused">
          Passed over {s.refused.length} smaller configuration{s.refused.length === 1 ? '' : 's'} whose file does not
          run in onnxruntime or misses the target there: {s.refused[0]!.reason}
        </p>
      )}
      <ParetoPlot
        trials={r.trials}
        floatBytes={floatBytes}
        target={r.target}
        chosen={chosen.id}
        picked={t.picked}
        onPick={(id) => store.getState().pickTrial(id)}
        latency={s.latency}
      />
      <p data-testid="tune-picked">
        In use: #{picked.id} {picked.label} ({fmt(picked.value)}, {frac(picked.bytes)})
        {picked.id === chosen.id ? ', the search\u2019s choice.' : ', picked by you.'} Export writes it.
      </p>
    </div>
  );
}

export function TunePanel() {
  const model = useApp((s) => s.model);
  const t = useApp((s) => s.tuning);
  if (!model) return null;
  const running = t.status === 'running';
  const hasResult = t.status === 'done' && t.summary !== null && t.forModel === model.fileName;
  return (
    <section className="card" data-testid="tune-panel" id="step-tune" tabIndex={-1}>
      <h2>4 · Tune</h2>
      <p className="muted">
        Searches per-group choices (calibration method, 16-bit activations, 8-bit weights, kept float) for the smallest
        file that meets a target on held-out samples, with the command line&rsquo;s engine, in the worker.
      </p>
      <TargetControls disabled={running} />
      {running && <TuneProgressBar />}
      <p data-testid="tune-status" data-status={t.status} className="muted">
        {t.status === 'cancelled' && 'Cancelled: the configuration is as it was.'}
      </p>
      <ErrorBanner error={t.error} testId="tune-error" />
      {hasResult && <TuneResultView />}
    </section>
  );
}
