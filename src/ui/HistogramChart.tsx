import { memo, useLayoutEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { Area, AreaChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { downsampleHistogram, type HistogramState } from '../core/histogram';
import { formatNumber } from './format';
import { placeRangeLabels, textWidth } from './rangeLabels';

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

/** No vertical grid lines (see Bars). */
const noLines = (): number[] => [];

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
      {/* horizontal lines only: recharts places vertical ones (and computes them even when hidden, unless
          given a generator) by a tick search that measures every label in the DOM */}
      <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ee" vertical={false} verticalCoordinatesGenerator={noLines} />
      {/* interval 0: every tick of the (5) nice ticks drawn, none measured in the DOM to thin them out
          (recharts' default measures each label with a forced layout: most of a 70-200 ms first draw) */}
      <XAxis
        dataKey="x"
        type="number"
        domain={[lo, hi]}
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

/**
 * The other methods' ranges, dashed (their names are placed with the range in use's labels: RangeLabels).
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
      {others.map((o) => {
        const color = o.color ?? '#888';
        return (
          <g key={o.label} data-testid="other-range" data-label={o.label}>
            {[toX(o.rmin), toX(o.rmax)].map((x, i) =>
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
          </g>
        );
      })}
    </>
  );
}

const LABEL_FONT = "Inter, 'DejaVu Sans', system-ui, sans-serif";
/** Label rows, top down from the plot's top: 13 px apart (the range in use's labels are 12 px, the others' 10). */
const labelBaseline = (row: number) => PLOT.top + 12 + 13 * row;

/**
 * The range labels: the range in use's ends (its name and lower end beside its lower line, inside the
 * range; its upper end beside its upper line) in the top row, then the other methods' names beside
 * their upper lines in the rows below; each on the side of its line with room, in the first row where
 * it meets no other (rangeLabels.ts), so ranges ending near the plot's right edge stay readable.
 */
function RangeLabels({
  range,
  others,
  toX,
  left,
  right,
}: {
  range: ChartRange | null;
  others: readonly ChartRange[];
  toX: (v: number) => number;
  left: number;
  right: number;
}) {
  const inView = (x: number) => x >= left - 1 && x <= right + 1;
  type Text = { key: string; text: string; x: number; size: number; color: string; prefer: 'left' | 'right' };
  const own: Text[] = range
    ? [
        {
          key: 'min',
          text: `${range.label} ${formatNumber(range.rmin)}`,
          x: toX(range.rmin),
          prefer: 'right' as const,
        },
        { key: 'max', text: formatNumber(range.rmax), x: toX(range.rmax), prefer: 'left' as const },
      ]
        .filter((t) => inView(t.x))
        .map((t) => ({ ...t, size: 12, color: '#d1495b' }))
    : [];
  const theirs: Text[] = others
    .map((o) => ({
      key: `other-${o.label}`,
      text: o.label,
      x: toX(o.rmax),
      size: 10,
      color: o.color ?? '#888',
      prefer: 'right' as const,
    }))
    .filter((t) => inView(t.x));
  const measured = (ts: Text[]) => ts.map((t) => ({ ...t, width: textWidth(t.text, t.size, LABEL_FONT) }));
  const ownPlaced = placeRangeLabels(measured(own), left, right);
  const placed = [...ownPlaced, ...placeRangeLabels(measured(theirs), left, right, 1, ownPlaced)];
  const byKey = new Map([...own, ...theirs].map((t) => [t.key, t]));
  return (
    <>
      {placed.map((p) => {
        const t = byKey.get(p.key)!;
        const y = labelBaseline(p.row);
        return (
          <g key={p.key}>
            {/* a light backing: readable over the bars and the dashed lines */}
            <rect
              x={p.left - 2}
              y={y - t.size}
              width={p.right - p.left + 4}
              height={t.size + 3}
              rx={2}
              fill="#fff"
              fillOpacity={0.85}
            />
            <text
              data-testid="range-label"
              x={p.left}
              y={y}
              fill={t.color}
              fontSize={t.size}
              fontFamily={LABEL_FONT}
              textAnchor="start"
            >
              {t.text}
            </text>
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
          <RangeLabels range={range} others={others} toX={toX} left={PLOT.left} right={PLOT.left + plotWidth} />
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
