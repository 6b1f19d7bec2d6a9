import { useLayoutEffect, useRef, useState } from 'react';
import { Area, AreaChart, CartesianGrid, ReferenceArea, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { downsampleHistogram, type HistogramState } from '../core/histogram';
import { formatNumber } from './format';

export interface ChartRange {
  readonly label: string;
  readonly rmin: number;
  readonly rmax: number;
  readonly color?: string;
}

/** A tensor's histogram (bins precomputed in core), with the clipping range drawn over it. */
/**
 * `range` is the range in use (shaded); `others` are other methods' ranges, drawn as dashed lines.
 */
export function HistogramChart({ histogram, range, logScale, others = [] }: { histogram: HistogramState; range: ChartRange | null; logScale: boolean; others?: readonly ChartRange[] }) {
  // Measured once, instead of a ResponsiveContainer that renders the chart twice.
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // The bins span [-t, t]; draw the part that holds data or the range, with a little margin.
  const left = Math.min(histogram.min, range?.rmin ?? Infinity, ...others.map((o) => o.rmin));
  const right = Math.max(histogram.max, range?.rmax ?? -Infinity, ...others.map((o) => o.rmax));
  const pad = (right - left) * 0.03 || 0.5;
  const lo = left - pad;
  const hi = right + pad;
  const { edges, counts } = downsampleHistogram(histogram, 2048);
  const points: { x: number; count: number }[] = [];
  for (let i = 0; i < counts.length; i++) {
    const x = (edges[i]! + edges[i + 1]!) / 2;
    if (x >= lo && x <= hi) points.push({ x, count: counts[i]! });
  }
  const step = Math.max(1, Math.ceil(points.length / 160));
  const data: { x: number; count: number }[] = [];
  for (let i = 0; i < points.length; i += step) {
    const group = points.slice(i, i + step);
    const c = group.reduce((a, p) => a + p.count, 0);
    data.push({ x: group[0]!.x, count: logScale ? Math.log10(1 + c) : c });
  }
  return (
    <div className="chart" data-testid="histogram" data-bins={histogram.counts.length} ref={box}>
      {width > 0 && (
        <AreaChart width={width} height={260} data={data} margin={{ top: 16, right: 16, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ee" />
          <XAxis dataKey="x" type="number" domain={[lo, hi]} tickFormatter={formatNumber} allowDataOverflow />
          <YAxis tickFormatter={(v: number) => (logScale ? `1e${v.toFixed(0)}` : String(v))} width={56} />
          <Tooltip formatter={(v) => (logScale ? (10 ** Number(v) - 1).toFixed(0) : String(v))} labelFormatter={(x) => formatNumber(Number(x))} />
          {range && <ReferenceArea x1={range.rmin} x2={range.rmax} fill="#4f7cff" fillOpacity={0.08} />}
          <Area type="stepAfter" dataKey="count" stroke="#3553c9" fill="#6f8cff" isAnimationActive={false} />
          {others.flatMap((o) => [
            <ReferenceLine key={`${o.label}-lo`} x={o.rmin} stroke={o.color ?? '#888'} strokeDasharray="4 3" />,
            <ReferenceLine key={`${o.label}-hi`} x={o.rmax} stroke={o.color ?? '#888'} strokeDasharray="4 3" />,
          ])}
          {range && <ReferenceLine x={range.rmin} stroke="#d1495b" strokeWidth={2} label={{ value: `${range.label} ${formatNumber(range.rmin)}`, position: 'insideTopLeft', fill: '#d1495b' }} />}
          {range && <ReferenceLine x={range.rmax} stroke="#d1495b" strokeWidth={2} label={{ value: formatNumber(range.rmax), position: 'insideTopRight', fill: '#d1495b' }} />}
        </AreaChart>
      )}
    </div>
  );
}

/**
 * Mounting the first recharts chart costs ~80 ms of one-time work (module set-up, first JIT of its
 * code paths). The app does that once while the page is idle, off screen, so the first real
 * histogram (which appears the moment calibration ends) does not block the page.
 */
export function ChartWarmUp() {
  const [done, setDone] = useState(false);
  useLayoutEffect(() => {
    const id = setTimeout(() => setDone(true), 1500);
    return () => clearTimeout(id);
  }, []);
  if (done) return null;
  return (
    <div aria-hidden="true" style={{ position: 'absolute', left: -10000, top: 0, width: 400, height: 200, overflow: 'hidden' }}>
      <AreaChart width={400} height={200} data={[{ x: 0, count: 1 }, { x: 1, count: 2 }]}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="x" type="number" domain={[0, 1]} />
        <YAxis />
        <Tooltip />
        <ReferenceArea x1={0} x2={1} />
        <Area type="stepAfter" dataKey="count" isAnimationActive={false} />
        <ReferenceLine x={0.5} label={{ value: 'x', position: 'insideTopLeft' }} />
      </AreaChart>
    </div>
  );
}
