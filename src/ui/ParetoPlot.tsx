/**
 * Every configuration Tune tried, as a point: its file size (a fraction of the float model's) against
 * the target's metric, with the target as a line. The engine's choice is ringed, the configuration the
 * page holds now is filled dark; each point is a button (click, Enter or Space) that picks it. The
 * x-axis switches to latency: only the trials whose file Tune built and ran in onnxruntime have one
 * (runtime/tuneJob.ts TuneLatency), with the float model's as a line.
 */
import { useState } from 'react';
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
  /** Measured latencies (trial id -> median ms), the float model's, and what they were measured on. */
  readonly latency?: {
    readonly byTrial: Readonly<Record<number, number>>;
    readonly floatMs: number | null;
    readonly backend: string;
    readonly runs: number;
  };
}

type Axis = 'size' | 'latency';

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));

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

export function ParetoPlot({
  trials,
  floatBytes,
  target,
  chosen,
  picked,
  onPick,
  width = 350,
  latency,
}: ParetoPlotProps) {
  const [axis, setAxis] = useState<Axis>('size');
  const y = plotted(trials);
  // the start is measured on every held-out sample
  const all = trials[0]?.metrics.samples ?? 0;
  const timed = trials.filter((t) => latency?.byTrial[t.id] !== undefined);
  const byLatency = axis === 'latency' && timed.length > 0;
  const data: Point[] = (byLatency ? timed : trials).map((t) => ({
    id: t.id,
    x: byLatency ? latency!.byTrial[t.id]! : t.bytes / floatBytes,
    y: y(t.value),
    trial: t,
  }));
  const targetY = target.metric === 'task-drop' ? -target.value : target.value;
  const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
  const where = latency ? `${latency.backend === 'cpu' ? 'CPU' : 'WASM'} latency on this machine` : '';
  const xText = (p: Point) => (byLatency ? `${ms(p.x)} ms ${where}` : `${pct(p.x)} of the float file`);
  return (
    <figure className="pareto" data-testid="pareto-plot" data-axis={byLatency ? 'latency' : 'size'}>
      {latency && (
        <label className="row">
          Plot against{' '}
          <select aria-label="Pareto plot x-axis" value={axis} onChange={(e) => setAxis(e.target.value as Axis)}>
            <option value="size">file size</option>
            <option value="latency" disabled={timed.length === 0}>
              latency ({timed.length} measured)
            </option>
          </select>
        </label>
      )}
      <ScatterChart width={width} height={220} margin={{ top: 8, right: 12, bottom: 4, left: 4 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="x"
          type="number"
          name="size"
          domain={['auto', 'auto']}
          tickFormatter={byLatency ? ms : pct}
          height={30}
          label={{
            value: byLatency ? `ms, ${where}` : 'size of the float file',
            position: 'insideBottom',
            offset: -2,
            fontSize: 11,
          }}
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
        {byLatency && latency!.floatMs !== null && (
          <ReferenceLine
            x={latency!.floatMs}
            stroke="#5b6b8c"
            strokeDasharray="2 3"
            ifOverflow="extendDomain"
            label={{ value: 'float', position: 'insideTopLeft', fontSize: 11, fill: '#5b6b8c' }}
          />
        )}
        <Tooltip
          cursor={false}
          content={({ payload }) => {
            const p = payload?.[0]?.payload as Point | undefined;
            if (!p) return null;
            return (
              <div className="pareto-tip">
                <b>#{p.id}</b> {p.trial.label}
                <br />
                {valueText(target.metric, p.trial, all)}, {xText(p)}
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
            const name = `Trial ${t.id}: ${t.label}, ${valueText(target.metric, t, all)}, ${xText(p)}${t.meets ? ', meets the target' : ''}${isChosen ? ', chosen by the search' : ''}${isPicked ? ' (in use)' : ''}`;
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
        {byLatency &&
          ` Latency view: only the ${timed.length} configuration${timed.length === 1 ? '' : 's'} whose file Tune built and ran in onnxruntime (the start, the choice, those passed over in the file) appear; ${where}, the median of ${latency!.runs} runs of one held-out sample in the tune worker${latency!.floatMs !== null ? `; the float model: ${ms(latency!.floatMs)} ms` : ''}.`}
      </figcaption>
    </figure>
  );
}
