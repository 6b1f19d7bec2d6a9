import { memo } from 'react';
import { Area, AreaChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { downsampleHistogram, type HistogramState } from '../core/histogram';
import { formatNumber } from './format';
import { HEIGHT, niceTicks, PLOT } from './histogramPlot';

/** No vertical grid lines (see HistogramBars). */
const noLines = (): number[] => [];

/**
 * The histogram's bars (recharts). Memoised on the bins and the view only: dragging a range or switching
 * the method never redraws them (the ranges are drawn in the chart's own SVG overlay, RangeOverlay.tsx:
 * recharts' ReferenceLines each register in its internal store, and mounting or unmounting eight pairs
 * of them on a method switch cost a 60-180 ms main-thread task).
 */
export const HistogramBars = memo(function HistogramBars({
  histogram,
  width,
  lo,
  hi,
  logScale,
}: {
  histogram: HistogramState;
  width: number;
  lo: number;
  hi: number;
  logScale: boolean;
}) {
  const { edges, counts } = downsampleHistogram(histogram, 2048);
  const points: { x: number; count: number }[] = [];
  for (let i = 0; i < counts.length; i++) {
    const x = (edges[i]! + edges[i + 1]!) / 2;
    if (x >= lo && x <= hi) points.push({ x, count: counts[i]! });
  }
  const step = Math.max(1, Math.ceil(points.length / 200));
  const data: { x: number; count: number }[] = [];
  for (let i = 0; i < points.length; i += step) {
    const group = points.slice(i, i + step);
    const c = group.reduce((a, p) => a + p.count, 0);
    data.push({ x: group[0]!.x, count: logScale ? Math.log10(1 + c) : c });
  }
  return (
    <AreaChart
      width={width}
      height={HEIGHT}
      data={data}
      margin={{ top: PLOT.top, right: PLOT.right, bottom: 8, left: 8 }}
    >
      {/* horizontal lines only: recharts places vertical ones (and computes them even when hidden, unless
          given a generator) by a tick search that measures every label in the DOM */}
      <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ee" vertical={false} verticalCoordinatesGenerator={noLines} />
      {/* interval 0: every one of the (about 5) round ticks drawn, none measured in the DOM to thin them out
          (recharts' default measures each label with a forced layout: most of a 70-200 ms first draw) */}
      <XAxis
        dataKey="x"
        type="number"
        domain={[lo, hi]}
        ticks={niceTicks(lo, hi)}
        tickFormatter={formatNumber}
        allowDataOverflow
        height={30}
        interval={0}
      />
      <YAxis
        tickFormatter={(v: number) => (logScale ? (Number.isInteger(v) ? `1e${v}` : '') : String(v))}
        width={56}
        interval={0}
      />
      <Tooltip
        formatter={(v) => (logScale ? (10 ** Number(v) - 1).toFixed(0) : String(v))}
        labelFormatter={(x) => formatNumber(Number(x))}
      />
      <Area type="stepAfter" dataKey="count" stroke="#3553c9" fill="#6f8cff" isAnimationActive={false} />
    </AreaChart>
  );
});
