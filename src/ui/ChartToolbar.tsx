// ChartToolbar: the histogram's log-scale toggle and zoom/pan buttons.
import type { Range } from '../core/methods/percentile';

export function ChartToolbar({
  logScale,
  setLogScale,
  zoomBy,
  pan,
  shown,
  setZoom,
}: {
  logScale: boolean;
  setLogScale: (v: boolean) => void;
  zoomBy: (f: number) => void;
  pan: (f: number) => void;
  shown: Range | null;
  setZoom: (z: [number, number] | null) => void;
}) {
  return (
    <div className="row small chart-tools">
      <label className="inline">
        <input type="checkbox" checked={logScale} onChange={(e) => setLogScale(e.target.checked)} /> log counts
      </label>
      <span className="muted">zoom</span>
      <button type="button" onClick={() => zoomBy(0.25)} aria-label="Zoom in">
        +
      </button>
      <button type="button" onClick={() => zoomBy(4)} aria-label="Zoom out">
        −
      </button>
      <button type="button" onClick={() => pan(-0.25)} aria-label="Pan left">
        ◀
      </button>
      <button type="button" onClick={() => pan(0.25)} aria-label="Pan right">
        ▶
      </button>
      <button
        type="button"
        onClick={() =>
          shown &&
          setZoom([shown.rmax - (shown.rmax - shown.rmin) * 0.04, shown.rmax + (shown.rmax - shown.rmin) * 0.02])
        }
        aria-label="Zoom on the range's upper end"
      >
        upper end
      </button>
      <button type="button" onClick={() => setZoom(null)} aria-label="Fit">
        fit
      </button>
    </div>
  );
}
