import { useLayoutEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { HistogramState } from '../core/histogram';
import { formatNumber } from './format';
import { HistogramBars } from './HistogramBars';
import { fitDomain, HEIGHT, PLOT, type ChartRange, type Grid } from './histogramPlot';
import { OtherRanges, RangeLabels } from './RangeOverlay';

/**
 * A tensor's histogram (bins precomputed in core) with the range in use drawn over it: shaded, with
 * a handle at each end to drag (`onDrag` while moving, `onCommit` on release), and the integer grid
 * of that range when the view is zoomed in far enough to tell the codes apart. The bars are recharts
 * (HistogramBars.tsx); everything over them is one SVG overlay of our own: the other methods' ranges and
 * the labels (RangeOverlay.tsx), the grid, and the range in use with its handles (here).
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
      {width > 0 && <HistogramBars histogram={histogram} width={width} lo={lo} hi={hi} logScale={logScale} />}
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
