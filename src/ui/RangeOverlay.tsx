/**
 * What the histogram chart draws over its bars besides the range in use and its handles: the other
 * methods' ranges, dashed, and the labels of every range. Plain SVG in the chart's own overlay, never
 * recharts ReferenceLines (HistogramBars.tsx says why).
 */
import { formatNumber } from './format';
import { PLOT, type ChartRange } from './histogramPlot';
import { placeRangeLabels, textWidth } from './rangeLabels';

/**
 * The other methods' ranges, dashed (their names are placed with the range in use's labels: RangeLabels).
 */
export function OtherRanges({
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
export function RangeLabels({
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
