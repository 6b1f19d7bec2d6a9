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

/**
 * Round tick values inside [lo, hi], about `count` of them: multiples of 1, 2 or 5 × 10^k (the step
 * rule of d3's ticks). recharts' own ticks on a domain this chart fits to the data start at its left
 * end in equal steps and add the right end, whose label then lands on the last step's.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return Number.isFinite(lo) ? [lo] : [];
  const rough = (hi - lo) / count;
  let step = 10 ** Math.floor(Math.log10(rough));
  const err = rough / step;
  if (err >= Math.sqrt(50)) step *= 10;
  else if (err >= Math.sqrt(10)) step *= 5;
  else if (err >= Math.sqrt(2)) step *= 2;
  // integer multiples of the step (an end within a billionth of a step counts as on it: 0.0449 / 5e-5
  // is 897.9999999999999), each rounded to the step's decimals once, never accumulated
  // (-0.30000000000000004); `|| 0` writes -0 as 0
  const decimals = Math.min(100, Math.max(0, -Math.floor(Math.log10(step))));
  const ticks: number[] = [];
  const last = Math.floor(hi / step + 1e-9);
  for (let i = Math.ceil(lo / step - 1e-9); i <= last; i++) ticks.push(Number((i * step).toFixed(decimals)) || 0);
  return ticks;
}
