/**
 * Every configuration Tune tried, as a point: its file size (a fraction of the float model's) against
 * the target's metric, with the target as a line. The engine's choice is ringed, the configuration the
 * page holds now is filled dark; each point is a button (click, Enter or Space) that picks it.
 */
import { CartesianGrid, ReferenceLine, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { Target, Trial } from '../state/tuneSlice';
import { formatTuneValue } from './TuneFormat';

interface Point {
  readonly id: number;
  readonly x: number;
  readonly y: number;
  readonly trial: Trial;
}

export interface ParetoPlotProps {
  readonly trials: readonly Trial[];
  readonly floatBytes: number;
  readonly target: Target;
  /** The engine's choice. */
  readonly chosen: number;
  /** The trial the page's configuration is now. */
  readonly picked: number | null;
  readonly onPick: (id: number) => void;
  readonly width?: number;
}

/** Where a value is drawn: an exact output (SQNR +Infinity) sits just above the best finite one. */
function plotted(trials: readonly Trial[]): (v: number) => number {
  const finite = trials.map((t) => t.value).filter(Number.isFinite);
  const top = finite.length ? Math.max(...finite) : 0;
  const bottom = finite.length ? Math.min(...finite) : 0;
  const pad = Math.max(1e-3, (top - bottom) * 0.1);
  return (v) => (v === Infinity ? top + pad : v === -Infinity ? bottom - pad : v);
}

/**
 * A trial's metric in words. The search stops a configuration once it cannot meet the target (or beat
 * the best so far) and ranks some by a few samples only: those say so (runtime/tune/evaluate.ts).
 */
function valueText(metric: Target['metric'], t: Trial, all: number): string {
  const v = formatTuneValue(metric, t.value);
  const n = t.metrics.samples;
  const samples = `${n} sample${n === 1 ? '' : 's'}`;
  if (t.metrics.atMost !== undefined) return `at most ${v} (stopped after ${samples})`;
  return n < all ? `${v} on the hardest ${samples} (ranking only)` : v;
}

export function ParetoPlot({ trials, floatBytes, target, chosen, picked, onPick, width = 350 }: ParetoPlotProps) {
  const y = plotted(trials);
  // the start is measured on every held-out sample
  const all = trials[0]?.metrics.samples ?? 0;
  const data: Point[] = trials.map((t) => ({ id: t.id, x: t.bytes / floatBytes, y: y(t.value), trial: t }));
  const targetY = target.metric === 'task-drop' ? -target.value : target.value;
  const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
  return (
    <figure className="pareto" data-testid="pareto-plot">
      <ScatterChart width={width} height={220} margin={{ top: 8, right: 12, bottom: 4, left: 4 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="x"
          type="number"
          name="size"
          domain={['auto', 'auto']}
          tickFormatter={pct}
          height={30}
          label={{ value: 'size of the float file', position: 'insideBottom', offset: -2, fontSize: 11 }}
        />
        <YAxis
          dataKey="y"
          type="number"
          name="metric"
          domain={target.metric === 'top1' ? ['auto', 1] : ['auto', 'auto']}
          width={52}
          tickFormatter={(v: number) => formatTuneValue(target.metric, v, true)}
        />
        <ReferenceLine
          y={targetY}
          stroke="#c0392b"
          strokeDasharray="4 3"
          ifOverflow="extendDomain"
          label={{ value: 'target', position: 'insideTopRight', fontSize: 11, fill: '#c0392b' }}
        />
        <Tooltip
          cursor={false}
          content={({ payload }) => {
            const p = payload?.[0]?.payload as Point | undefined;
            if (!p) return null;
            return (
              <div className="pareto-tip">
                <b>#{p.id}</b> {p.trial.label}
                <br />
                {valueText(target.metric, p.trial, all)}, {pct(p.x)} of the float file
              </div>
            );
          }}
        />
        <Scatter
          data={data}
          isAnimationActive={false}
          shape={(props: { cx?: number; cy?: number; payload?: Point }) => {
            const p = props.payload!;
            const t = p.trial;
            const isPicked = t.id === picked;
            const isChosen = t.id === chosen;
            const stopped = t.metrics.atMost !== undefined;
            const name = `Trial ${t.id}: ${t.label}, ${valueText(target.metric, t, all)}, ${pct(p.x)} of the float file${t.meets ? ', meets the target' : ''}${isChosen ? ', chosen by the search' : ''}${isPicked ? ' (in use)' : ''}`;
            return (
              <g
                role="button"
                tabIndex={0}
                aria-label={name}
                aria-pressed={isPicked}
                data-testid="pareto-point"
                data-trial={t.id}
                className="pareto-point"
                onClick={() => onPick(t.id)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    onPick(t.id);
                  }
                }}
              >
                {isChosen && <circle cx={props.cx} cy={props.cy} r={9} fill="none" stroke="#1f7a3a" strokeWidth={2} />}
                <circle
                  cx={props.cx}
                  cy={props.cy}
                  r={isPicked ? 6 : 5}
                  fill={isPicked ? '#1c2333' : t.meets ? '#2e9e5b' : stopped ? '#fff' : '#9aa4bd'}
                  stroke={stopped && !isPicked ? '#9aa4bd' : '#fff'}
                  strokeWidth={stopped ? 1.5 : 1}
                />
              </g>
            );
          }}
        />
      </ScatterChart>
      <figcaption className="muted">
        Each configuration tried: green meets the target, grey misses it (hollow: stopped early, once it could not meet
        the target or beat the best so far; drawn at the most it could reach); ringed: the search's choice; dark: in
        use. Click a point to use it.
      </figcaption>
    </figure>
  );
}
