/** Tune's target: the metric, its value and the output it is measured on (the default where none is set). */
import { recurrentPairs } from '../core/guard';
import type { Target } from '../state/tuneSlice';
import { useApp, useAppStore } from './useApp';

type MetricChoice = 'default' | Target['metric'];

const DEFAULT_VALUE: Record<Target['metric'], number> = { top1: 0.99, sqnr: 30, 'task-drop': 0.015 };

export function TargetControls({ disabled }: { disabled: boolean }) {
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
