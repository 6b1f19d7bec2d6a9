/**
 * The canvas's views: the tensor list (the explorer), and beside it the debugger's views (issue 12):
 * the per-tensor error list, the graph coloured by accumulated SQNR, and the sensitivity ranking. Each
 * view keeps the tensor under study on its right, so clicking a tensor anywhere shows its histogram.
 */
import { useMemo, useState } from 'react';
import { DebugList } from './DebugList';
import { DebugRunBar } from './DebugRunBar';
import { GraphView } from './GraphView';
import { SensitivityTable } from './SensitivityTable';
import { TensorDetail } from './TensorDetail';
import { TensorExplorer } from './TensorExplorer';
import { useApp, useAppStore } from './useApp';
import { DEBUG_SAMPLES, SENSITIVITY_SAMPLES } from '../state/debugSlice';
import { heldOutCount } from '../state/heldOutSamples';

type View = 'tensors' | 'errors' | 'graph' | 'sensitivity';
const VIEW_LABEL: Record<View, string> = {
  tensors: 'Tensors',
  errors: 'Error by tensor',
  graph: 'Graph',
  sensitivity: 'Sensitivity',
};
const BASE = import.meta.env.BASE_URL;

function StudiedTensor() {
  const selected = useApp((s) => s.selectedTensor);
  const stats = useApp((s) => s.calibration.stats);
  const model = useApp((s) => s.model);
  const producers = useMemo(
    () => new Map(model?.prepared.graph!.node.flatMap((n) => n.output.map((o) => [o, n] as const)) ?? []),
    [model],
  );
  const sel = selected && stats?.[selected];
  return (
    <div className="tensor-detail">
      {sel && selected ? (
        <TensorDetail tensor={selected} stats={sel} producer={producers.get(selected)} />
      ) : (
        <p>Pick a tensor: click a row or a node.</p>
      )}
    </div>
  );
}

/** The held-out sample counts on offer: 1, 2 and all there are (`max`), none the run would not use. */
function SampleCount({ value, onChange, max }: { value: number; onChange: (n: number) => void; max: number }) {
  const choices = [...new Set([1, 2, max])].filter((n) => n <= max);
  return (
    <label className="small">
      on{' '}
      <select aria-label="Held-out samples" value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {choices.map((n) => (
          <option key={n} value={n}>
            {n} held-out sample{n === 1 ? '' : 's'}
          </option>
        ))}
      </select>
    </label>
  );
}

function DebugJob() {
  const store = useAppStore();
  const debug = useApp((s) => s.debug);
  const config = useApp((s) => s.config);
  // at least one on offer: with no samples at all the run itself says to choose data
  const available = useApp((s) => Math.max(1, heldOutCount(s, DEBUG_SAMPLES)));
  const [chosen, setSamples] = useState(DEBUG_SAMPLES);
  const samples = Math.min(chosen, available);
  return (
    <DebugRunBar
      label="Run the debugger"
      testId="debug-run"
      status={debug.status}
      progress={debug.progress}
      unit="samples"
      ms={debug.ms}
      source={debug.source}
      error={debug.error?.message ?? null}
      onRun={() => void store.getState().runDebug({ baseUrl: BASE, samples })}
      onCancel={() => store.getState().cancelDebug()}
      options={<SampleCount value={samples} onChange={setSamples} max={available} />}
    >
      {debug.status === 'done' && debug.forConfig !== config && (
        <span className="warn-text small" data-testid="debug-stale">
          the choices changed since: run it again
        </span>
      )}
    </DebugRunBar>
  );
}

function ErrorsView() {
  const debug = useApp((s) => s.debug);
  return (
    <>
      <DebugJob />
      {debug.subject && debug.status !== 'idle' && <p className="muted small">Float model against {debug.subject}.</p>}
      {debug.result ? (
        <DebugList result={debug.result} />
      ) : (
        <p className="muted">
          The debugger runs the float model and the file Export would write now on held-out samples, tensor by tensor:
          each quantized tensor's own error and the error accumulated from upstream, streamed (only running sums are
          kept).
        </p>
      )}
    </>
  );
}

/** The quick sweep ranks this many groups: the debugger's worst. */
const QUICK_GROUPS = 12;

function SensitivityView() {
  const store = useAppStore();
  const s = useApp((st) => st.sensitivity);
  const config = useApp((st) => st.config);
  const debug = useApp((st) => st.debug);
  const groupCount = useApp((st) => st.model?.plan.activations.length ?? 0);
  const [scope, setScope] = useState<'all' | 'worst'>('all');
  const [samples, setSamples] = useState(SENSITIVITY_SAMPLES);
  const quickReady = debug.result !== null && debug.forConfig === config;
  return (
    <>
      <div className="debug-run-row small">
        <label>
          rank{' '}
          <select
            aria-label="Groups to rank"
            value={scope}
            onChange={(e) => setScope(e.target.value as 'all' | 'worst')}
          >
            <option value="all">every group (about {groupCount}: two evaluations each)</option>
            <option value="worst" disabled={!quickReady}>
              the {QUICK_GROUPS} the debugger finds costliest alone{quickReady ? '' : ' (run the debugger first)'}
            </option>
          </select>
        </label>
        <SampleCount value={samples} onChange={setSamples} max={SENSITIVITY_SAMPLES} />
      </div>
      <DebugRunBar
        label="Run sensitivity"
        testId="sensitivity-run"
        status={s.status}
        progress={s.progress}
        unit="evaluations"
        ms={s.ms}
        source={s.source}
        error={s.error?.message ?? null}
        onRun={() =>
          void store
            .getState()
            .runSensitivity({ baseUrl: BASE, samples, ...(scope === 'worst' ? { worst: QUICK_GROUPS } : {}) })
        }
        onCancel={() => store.getState().cancelSensitivity()}
      >
        {s.status === 'done' && s.forConfig !== config && (
          <span className="warn-text small">the choices changed since: run it again</span>
        )}
      </DebugRunBar>
      {s.report ? (
        <SensitivityTable report={s.report} />
      ) : (
        <p className="muted">
          For every group of nodes sharing a range: the output's SQNR (and top-1 agreement for class scores) with only
          that group quantized, and with only it kept float, ranked. One session serves every configuration: each
          quantizer is switched by a boolean input, and the float outputs are computed once.
        </p>
      )}
    </>
  );
}

export function DebugCanvas() {
  const [view, setView] = useState<View>('tensors');
  const result = useApp((s) => s.debug.result);
  return (
    <div className="canvas-views">
      <div className="tabs canvas-tabs" role="tablist" aria-label="Canvas views">
        {(Object.keys(VIEW_LABEL) as View[]).map((v) => (
          <button
            key={v}
            type="button"
            role="tab"
            aria-selected={view === v}
            className={view === v ? 'selected' : ''}
            onClick={() => setView(v)}
          >
            {VIEW_LABEL[v]}
          </button>
        ))}
      </div>
      {view === 'tensors' ? (
        <TensorExplorer />
      ) : (
        <section className="card explorer-card" data-testid={`${view}-pane`}>
          <div className={`explorer debug-explorer ${view === 'graph' ? 'graph-explorer' : ''}`}>
            <div className="debug-pane">
              {view === 'errors' && <ErrorsView />}
              {view === 'graph' && (
                <>
                  <DebugJob />
                  <GraphView result={result} />
                </>
              )}
              {view === 'sensitivity' && <SensitivityView />}
            </div>
            <StudiedTensor />
          </div>
        </section>
      )}
    </div>
  );
}
