/**
 * The histogram chart's geometry and the shapes it draws, shared by the bars (HistogramBars.tsx), the
 * ranges drawn over them (RangeOverlay.tsx) and the chart itself (HistogramChart.tsx).
 */
import type { HistogramState } from '../core/histogram';

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

export const HEIGHT = 260;
// recharts' plot area inside the chart: margins plus the Y axis (56) and X axis (30).
export const PLOT = { left: 8 + 56, right: 16, top: 16, bottom: 8 + 30 };

/** The x extent worth drawing: the data and every range, with a little margin. */
export function fitDomain(h: HistogramState, all: readonly { rmin: number; rmax: number }[]): [number, number] {
  const ranges = all.filter((r) => Number.isFinite(r.rmin) && Number.isFinite(r.rmax));
  const left = Math.min(h.min, ...ranges.map((r) => r.rmin));
  const right = Math.max(h.max, ...ranges.map((r) => r.rmax));
  const pad = (right - left) * 0.03 || 0.5;
  return [left - pad, right + pad];
}
