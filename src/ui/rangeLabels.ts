/**
 * Where the histogram's range labels go, so that none covers another or runs past the plot: each label
 * sits beside its line, on the side it prefers when it fits between the plot's edges, else on the
 * other side (a range ending near the right edge is labelled to the left of its line), and in the
 * first row, top down, where it meets no label placed before it. Labels placed first keep the top rows.
 */

export interface RangeLabel {
  readonly key: string;
  /** The line it labels, in pixels. */
  readonly x: number;
  readonly width: number;
  /** The side of the line it goes to when it fits there. */
  readonly prefer: 'right' | 'left';
}

export interface PlacedLabel {
  readonly key: string;
  /** Its left edge (draw it with text-anchor start) and right edge, in pixels. */
  readonly left: number;
  readonly right: number;
  /** 0 for the top row. */
  readonly row: number;
}

/** Space between a label and its line, and between two labels in a row. */
const GAP = 4;

export function placeRangeLabels(
  labels: readonly RangeLabel[],
  plotLeft: number,
  plotRight: number,
  firstRow = 0,
  /** Labels already drawn, which these must not meet. */
  taken: readonly PlacedLabel[] = [],
): PlacedLabel[] {
  const placed: PlacedLabel[] = [...taken];
  for (const l of labels) {
    const right = { left: l.x + GAP, right: l.x + GAP + l.width };
    const left = { left: l.x - GAP - l.width, right: l.x - GAP };
    const fits = (s: { left: number; right: number }) => s.left >= plotLeft && s.right <= plotRight;
    const [first, second] = l.prefer === 'right' ? [right, left] : [left, right];
    let span = fits(first) ? first : fits(second) ? second : first;
    // wider than either side allows: kept inside the plot, over its line
    if (!fits(span)) {
      const shift = span.right > plotRight ? plotRight - span.right : plotLeft - span.left;
      span = { left: span.left + shift, right: span.right + shift };
    }
    let row = firstRow;
    while (placed.some((p) => p.row === row && p.left < span.right + GAP && span.left < p.right + GAP)) row++;
    placed.push({ key: l.key, left: span.left, right: span.right, row });
  }
  return placed.slice(taken.length);
}

let context: CanvasRenderingContext2D | null | undefined;

/**
 * A label's width in pixels as the browser draws it in `font` (a canvas measures it); where there is
 * no canvas (Node), an estimate from DejaVu Sans' wide glyphs (0.65 em a character).
 */
export function textWidth(text: string, fontPx: number, family: string): number {
  if (context === undefined)
    context = typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
  if (!context) return text.length * fontPx * 0.65;
  context.font = `${fontPx}px ${family}`;
  return context.measureText(text).width;
}
