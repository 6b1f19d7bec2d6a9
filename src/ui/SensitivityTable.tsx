/**
 * Sensitivity, ranked: for every group (nodes that share a range count as one), the output metric with
 * only that group quantized and with only that group kept float, on held-out samples. Most sensitive
 * first: the lowest output SQNR when quantized alone.
 */
import type { EvalMetrics, SensitivityReport } from '../state/debugSlice';
import { formatDb } from './format';
import { sqnrColour } from './GraphView';
import { useApp, useAppStore } from './useApp';

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

/**
 * One configuration's metrics in one cell: SQNR on the first line, top-1 and the task metric under it.
 * Two cells a row instead of six keep the table inside its half of the page at 1280 and 1440 px.
 */
function Metric({ m, top1, task }: { m: EvalMetrics; top1: boolean; task: boolean }) {
  return (
    <td className="num sens-metric">
      <span className="swatch" style={{ background: sqnrColour(m.sqnrDb) }} />
      {formatDb(m.sqnrDb)}
      {(top1 || task) && (
        <span className="sens-sub">
          {top1 && pct(m.top1)}
          {top1 && task && ' · '}
          {task && pct(m.task)}
        </span>
      )}
    </td>
  );
}

export function SensitivityTable({ report }: { report: SensitivityReport }) {
  const store = useAppStore();
  const stats = useApp((s) => s.calibration.stats);
  const selected = useApp((s) => s.selectedTensor);
  const top1 = report.classes !== null;
  const task = report.taskName !== null;
  const cols = `SQNR dB${top1 ? '; top-1' : ''}${task ? `${top1 ? ' ·' : ';'} ${report.taskName}` : ''}`;
  return (
    <div className="sensitivity" data-testid="sensitivity-ranking">
      <p className="small">
        Output <b className="mono">{report.output}</b>
        {top1 ? ` (top-1 agreement along its ${report.classes} classes too)` : ''}. Everything quantized: SQNR{' '}
        <b>{formatDb(report.all.sqnrDb)} dB</b>
        {report.all.top1 !== null ? `, top-1 ${(100 * report.all.top1).toFixed(1)}%` : ''}
        {task && (
          <span data-testid="sensitivity-task">
            , {report.taskName} {pct(report.all.task)} (float model {pct(report.floatTask)})
          </span>
        )}
        . {report.groups.length}
        {report.groups.length < report.totalGroups ? ` of ${report.totalGroups}` : ''} groups on {report.samples}{' '}
        held-out sample{report.samples === 1 ? '' : 's'}, {report.runs} runs of one switchboard session; sweep{' '}
        {(report.elapsedMs / 1000).toFixed(1)} s after {(report.setupMs / 1000).toFixed(1)} s setting up.
      </p>
      <div className="debug-table-box">
        <table className="debug-table">
          <thead>
            <tr>
              <th>#</th>
              <th>group</th>
              <th className="num">
                only it quantized<span className="sens-sub">{cols}</span>
              </th>
              <th className="num">
                only it float<span className="sens-sub">{cols}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {report.groups.map((g, i) => {
              const t = g.group.tensors.find((x) => stats?.[x]) ?? null;
              return (
                <tr
                  key={g.group.id}
                  data-testid="sensitivity-row"
                  data-sqnr={String(g.onlyQuantized.sqnrDb)}
                  className={t && t === selected ? 'selected' : ''}
                  onClick={t ? () => store.getState().selectTensor(t) : undefined}
                >
                  <td className="num">{i + 1}</td>
                  <td className="debug-name" title={`${g.group.label}\nnodes: ${g.group.nodes.join(', ')}`}>
                    <span className="mono">{g.group.label}</span>
                  </td>
                  <Metric m={g.onlyQuantized} top1={top1} task={task} />
                  <Metric m={g.onlyFloat} top1={top1} task={task} />
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
