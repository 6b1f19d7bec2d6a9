import { memo, useLayoutEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { Area, AreaChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { downsampleHistogram, type HistogramState } from '../core/histogram';
import { formatNumber } from './format';

export interface ChartRange {
  readonly label: string;
  readonly rmin: number;
  readonly rmax: number;
  readonly color?: string;
}

/** The integer grid a range implies: code q sits at (q - zeroPoint) * scale. */
export interface Grid {
  readonly scale: number;
  readonly zeroPoint: number;
  readonly qmin: number;
  readonly qmax: number;
}

const HEIGHT = 260;
// recharts' plot area inside the chart: margins plus the Y axis (56) and X axis (30).
const PLOT = { left: 8 + 56, right: 16, top: 16, bottom: 8 + 30 };

/** The x extent worth drawing: the data and every range, with a little margin. */
export function fitDomain(h: HistogramState, all: readonly { rmin: number; rmax: number }[]): [number, number] {
  const ranges = all.filter((r) => Number.isFinite(r.rmin) && Number.isFinite(r.rmax));
  const left = Math.min(h.min, ...ranges.map((r) => r.rmin));
  const right = Math.max(h.max, ...ranges.map((r) => r.rmax));
  const pad = (right - left) * 0.03 || 0.5;
  return [left - pad, right + pad];
}

/**
 * The histogram (recharts). Memoised on the bins and the view only: dragging a range or switching the
 * method never redraws it (the ranges are drawn in the overlay below: recharts' ReferenceLines each
 * register in its internal store, and mounting or unmounting eight pairs of them on a method switch
 * cost a 60-180 ms main-thread task).
 */
const Bars = memo(function Bars({
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
      <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ee" />
      <XAxis dataKey="x" type="number" domain={[lo, hi]} tickFormatter={formatNumber} allowDataOverflow height={30} />
      <YAxis tickFormatter={(v: number) => (logScale ? (Number.isInteger(v) ? `1e${v}` : '') : String(v))} width={56} />
      <Tooltip
        formatter={(v) => (logScale ? (10 ** Number(v) - 1).toFixed(0) : String(v))}
        labelFormatter={(x) => formatNumber(Number(x))}
      />
      <Area type="stepAfter" dataKey="count" stroke="#3553c9" fill="#6f8cff" isAnimationActive={false} />
    </AreaChart>
  );
});

/** Approximate width of a label in px (10 px sans-serif: about 0.6 em a character). */
const labelWidth = (text: string, fontSize: number) => text.length * fontSize * 0.6;

/**
 * The other methods' ranges, dashed, each with its name in a row of its own (one row per method, under
 * the range in use's labels) beside its upper end: right of the line, or left of it where the name
 * would run past the plot's right edge.
 */
function OtherRanges({
  others,
  toX,
  left,
  right,
  bottom,
}: {
  others: readonly ChartRange[];
  toX: (v: number) => number;
  left: number;
  right: number;
  bottom: number;
}) {
  return (
    <>
      {others.map((o, k) => {
        const color = o.color ?? '#888';
        const xs = [toX(o.rmin), toX(o.rmax)];
        const y = PLOT.top + 24 + 11 * k;
        const hi = xs[1]!;
        const fits = hi + 3 + labelWidth(o.label, 10) <= right;
        const inView = hi >= left - 1 && hi <= right + 1;
        return (
          <g key={o.label} data-testid="other-range" data-label={o.label}>
            {xs.map((x, i) =>
              x >= left - 1 && x <= right + 1 ? (
                <line
                  key={i}
                  className="other-range-line"
                  x1={x}
                  x2={x}
                  y1={PLOT.top}
                  y2={bottom}
                  stroke={color}
                  strokeDasharray="4 3"
                />
              ) : null,
            )}
            {inView && (
              <text
                className="other-range-label"
                x={fits ? hi + 3 : hi - 3}
                y={y}
                fill={color}
                fontSize={10}
                textAnchor={fits ? 'start' : 'end'}
              >
                {o.label}
              </text>
            )}
          </g>
        );
      })}
    </>
  );
}

/**
 * A tensor's histogram (bins precomputed in core) with the range in use drawn over it: shaded, with
 * a handle at each end to drag (`onDrag` while moving, `onCommit` on release), and the integer grid
 * of that range when the view is zoomed in far enough to tell the codes apart.
 */
export function HistogramChart({
  histogram,
  range,
  logScale,
  others = [],
  domain,
  grid,
  onDrag,
  onCommit,
}: {
  histogram: HistogramState;
  range: ChartRange | null;
  logScale: boolean;
  others?: readonly ChartRange[];
  domain?: [number, number];
  grid?: Grid | null;
  onDrag?: (rmin: number, rmax: number) => void;
  onCommit?: (rmin: number, rmax: number) => void;
}) {
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
  const [lo, hi] = domain ?? fitDomain(histogram, range ? [range, ...others] : others);
  const plotWidth = Math.max(1, width - PLOT.left - PLOT.right);
  const toX = (v: number) => PLOT.left + ((v - lo) / (hi - lo)) * plotWidth;
  const toValue = (px: number) => lo + ((px - PLOT.left) / plotWidth) * (hi - lo);
  const drag = useRef<{ end: 'min' | 'max'; rmin: number; rmax: number } | null>(null);
  const start = (end: 'min' | 'max') => (e: ReactPointerEvent<SVGElement>) => {
    if (!range || !onDrag) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { end, rmin: range.rmin, rmax: range.rmax };
  };
  const move = (e: ReactPointerEvent<SVGElement>) => {
    const d = drag.current;
    if (!d || !onDrag) return;
    const rect = (
      e.currentTarget.ownerSVGElement ?? (e.currentTarget as unknown as SVGSVGElement)
    ).getBoundingClientRect();
    const v = toValue(e.clientX - rect.left);
    if (d.end === 'min') d.rmin = Math.min(v, d.rmax);
    else d.rmax = Math.max(v, d.rmin);
    onDrag(d.rmin, d.rmax);
  };
  const end = () => {
    const d = drag.current;
    drag.current = null;
    if (d && onCommit) onCommit(d.rmin, d.rmax);
  };
  const plotBottom = HEIGHT - PLOT.bottom;
  // The grid, when one code is at least 4 px wide on screen.
  const codes: number[] = [];
  if (grid && grid.scale > 0 && (grid.scale / (hi - lo)) * plotWidth >= 4) {
    const qLo = Math.max(grid.qmin, Math.ceil(lo / grid.scale + grid.zeroPoint));
    const qHi = Math.min(grid.qmax, Math.floor(hi / grid.scale + grid.zeroPoint));
    for (let q = qLo; q <= qHi; q++) codes.push(q);
  }
  const codeWidth = grid && grid.scale > 0 ? (grid.scale / (hi - lo)) * plotWidth : 0;
  const clipX = (v: number) => Math.min(PLOT.left + plotWidth, Math.max(PLOT.left, toX(v)));
  return (
    <div
      className="chart"
      data-testid="histogram"
      data-bins={histogram.counts.length}
      data-grid-codes={codes.length}
      ref={box}
      style={{ position: 'relative' }}
    >
      {width > 0 && <Bars histogram={histogram} width={width} lo={lo} hi={hi} logScale={logScale} />}
      {width > 0 && (
        <svg
          className="overlay"
          width={width}
          height={HEIGHT}
          style={{ position: 'absolute', left: 0, top: 0, pointerEvents: 'none' }}
        >
          <OtherRanges others={others} toX={toX} left={PLOT.left} right={PLOT.left + plotWidth} bottom={plotBottom} />
          {codes.map((q) => {
            const x = toX((q - grid!.zeroPoint) * grid!.scale);
            return (
              <line
                key={q}
                x1={x}
                x2={x}
                y1={PLOT.top}
                y2={plotBottom}
                stroke={q === grid!.zeroPoint ? '#555' : '#9aa3b5'}
                strokeWidth={q === grid!.zeroPoint ? 1.5 : 0.6}
                data-testid="grid-line"
              />
            );
          })}
          {range && (
            <>
              <rect
                x={clipX(range.rmin)}
                width={Math.max(0, clipX(range.rmax) - clipX(range.rmin))}
                y={PLOT.top}
                height={plotBottom - PLOT.top}
                fill="#4f7cff"
                fillOpacity={0.08}
              />
              {(['min', 'max'] as const).map((which) => {
                const v = which === 'min' ? range.rmin : range.rmax;
                const x = toX(v);
                if (x < PLOT.left - 1 || x > PLOT.left + plotWidth + 1) return null;
                return (
                  <g key={which}>
                    <line x1={x} x2={x} y1={PLOT.top} y2={plotBottom} stroke="#d1495b" strokeWidth={2} />
                    <text
                      x={which === 'min' ? x + 4 : x - 4}
                      y={PLOT.top + 12}
                      fill="#d1495b"
                      fontSize={12}
                      textAnchor={which === 'min' ? 'start' : 'end'}
                    >
                      {which === 'min' ? `${range.label} ${formatNumber(v)}` : formatNumber(v)}
                    </text>
                    {onDrag && (
                      <rect
                        data-testid={`handle-${which}`}
                        aria-label={`Drag the range ${which}`}
                        x={x - 6}
                        y={plotBottom - 34}
                        width={12}
                        height={28}
                        rx={3}
                        fill="#d1495b"
                        style={{ pointerEvents: 'all', cursor: 'ew-resize' }}
                        onPointerDown={start(which)}
                        onPointerMove={move}
                        onPointerUp={end}
                        onPointerCancel={end}
                      />
                    )}
                  </g>
                );
              })}
            </>
          )}
        </svg>
      )}
      {grid && width > 0 && (
        <p className="muted small grid-note" data-testid="grid-note">
          {codes.length > 0
            ? `integer grid: one line per code, ${formatNumber(grid.scale)} apart (${codes.length} codes in view; the darker line is the zero point)`
            : `zoom in to see the integer grid: codes are ${formatNumber(grid.scale)} apart, ${codeWidth.toFixed(2)} px at this zoom`}
        </p>
      )}
    </div>
  );
}
