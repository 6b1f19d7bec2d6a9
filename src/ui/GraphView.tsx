/**
 * The graph view, Netron-like: the prepared model drawn top to bottom in layers (src/onnx/layout.ts),
 * each node coloured by the accumulated SQNR of the tensor it outputs (the debugger's figure: what
 * reaches that tensor from upstream), the first divergence outlined and flagged. Wheel or the buttons
 * zoom, dragging pans; clicking a node puts its tensor under study beside the graph.
 */
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { graphDrawing, type GraphDrawing } from '../onnx/layoutGraph';
import type { DebugResult, TensorError } from '../state/debugSlice';
import { useApp, useAppStore } from './useApp';
import { formatDb } from './format';

/** The colour scale's top: at or above this accumulated SQNR a tensor is drawn fully green. */
export const SQNR_GOOD_DB = 40;

/** Red at 0 dB through yellow to green at SQNR_GOOD_DB; grey when there is no figure. */
export function sqnrColour(db: number | null | undefined): string {
  if (db === null || db === undefined || Number.isNaN(db)) return '#e6e9f0';
  const t = Math.max(0, Math.min(1, db / SQNR_GOOD_DB));
  return `hsl(${Math.round(120 * t)}, 70%, ${Math.round(62 + 8 * t)}%)`;
}

interface View {
  readonly k: number;
  readonly tx: number;
  readonly ty: number;
}

const MIN_K = 0.03;
const MAX_K = 3;
const clampK = (k: number) => Math.max(MIN_K, Math.min(MAX_K, k));

const GraphBody = memo(function GraphBody({
  drawing,
  rows,
  first,
  selectedBox,
  onPick,
}: {
  drawing: GraphDrawing;
  rows: ReadonlyMap<string, TensorError>;
  first: string | null;
  selectedBox: string | null;
  onPick: (boxId: string) => void;
}) {
  const { layout, boxes } = drawing;
  return (
    <>
      <g className="graph-edges">
        {layout.edges.map((e, i) => (
          <path
            key={i}
            d={e.points.map((p, k) => `${k ? 'L' : 'M'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join('')}
            fill="none"
            stroke="#9aa3b8"
            strokeWidth={1}
          />
        ))}
      </g>
      {layout.nodes.map((n) => {
        const b = boxes.get(n.id)!;
        const row = rows.get(n.id);
        const isFirst = n.id === first;
        const sel = n.id === selectedBox;
        return (
          <g
            key={n.id}
            transform={`translate(${n.x},${n.y})`}
            className="graph-node"
            data-testid="graph-node"
            data-tensor={b.tensor}
            data-first-divergence={isFirst ? 'true' : undefined}
            data-selected={sel ? 'true' : undefined}
            onClick={() => onPick(n.id)}
          >
            <title>
              {`${b.kind === 'input' ? 'input' : b.opType} ${b.kind === 'node' ? n.id.slice(5) : ''}\n→ ${b.tensor}` +
                (row
                  ? `\naccumulated SQNR ${formatDb(row.accumulated.sqnrDb)} dB, own ${row.own ? formatDb(row.own.sqnrDb) : '—'} dB`
                  : '')}
            </title>
            <rect
              width={n.width}
              height={n.height}
              rx={b.kind === 'input' ? 13 : 4}
              fill={b.kind === 'input' ? '#dfe7ff' : sqnrColour(row?.accumulated.sqnrDb)}
              stroke={isFirst ? '#b3261e' : sel ? '#2446c8' : '#5a6478'}
              strokeWidth={isFirst ? 3 : sel ? 2.5 : 1}
            />
            <text x={n.width / 2} y={n.height / 2 + 4} textAnchor="middle" fontSize={12}>
              {b.label}
            </text>
            {isFirst && (
              <text x={n.width + 6} y={n.height / 2 + 4} fontSize={12} fill="#b3261e" fontWeight={600}>
                ◀ first divergence
              </text>
            )}
          </g>
        );
      })}
    </>
  );
});

export function GraphView({ result }: { result: DebugResult | null }) {
  const store = useAppStore();
  const model = useApp((s) => s.model)!;
  const stats = useApp((s) => s.calibration.stats);
  const selected = useApp((s) => s.selectedTensor);
  const drawing = useMemo(() => graphDrawing(model.prepared.graph!), [model]);
  // each box's figure: the quantized activation among its outputs
  const rows = useMemo(() => {
    const m = new Map<string, TensorError>();
    for (const t of result?.tensors ?? []) {
      if (t.kind !== 'activation') continue;
      const box = drawing.boxOfTensor.get(t.tensor);
      if (box && !m.has(box)) m.set(box, t);
    }
    return m;
  }, [result, drawing]);
  const firstBox = result?.firstDivergence ? (drawing.boxOfTensor.get(result.firstDivergence) ?? null) : null;
  const selectedBox = selected ? (drawing.boxOfTensor.get(selected) ?? null) : null;

  const frame = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ w: 600, h: 500 });
  const [view, setView] = useState<View | null>(null);
  useEffect(() => {
    const el = frame.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      const r = el.getBoundingClientRect();
      setSize({ w: Math.max(200, r.width), h: Math.max(200, r.height) });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const { width: gw, height: gh } = drawing.layout;
  // opens as Netron does: readable scale, the top of the graph, centred across
  const start = useCallback((): View => {
    const k = clampK(Math.min(1, size.w / gw));
    return { k, tx: (size.w - gw * k) / 2, ty: 0 };
  }, [size, gw]);
  const v = view ?? start();
  const zoomAt = (factor: number, cx: number, cy: number) =>
    setView((old) => {
      const o = old ?? start();
      const k = clampK(o.k * factor);
      return { k, tx: cx - ((cx - o.tx) * k) / o.k, ty: cy - ((cy - o.ty) * k) / o.k };
    });
  const fit = () => {
    const k = clampK(Math.min(size.w / gw, size.h / gh));
    setView({ k, tx: (size.w - gw * k) / 2, ty: (size.h - gh * k) / 2 });
  };
  const focusBox = useCallback(
    (id: string) => {
      const n = drawing.layout.nodes.find((x) => x.id === id);
      if (!n) return;
      setView((old) => {
        const k = Math.max((old ?? start()).k, 0.9);
        return { k, tx: size.w / 2 - (n.x + n.width / 2) * k, ty: size.h / 2 - (n.y + n.height / 2) * k };
      });
    },
    [drawing, size, start],
  );

  // wheel zoom needs a non-passive listener to keep the pane from scrolling
  useEffect(() => {
    const el = frame.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  });

  const drag = useRef<{ x: number; y: number; tx: number; ty: number; moved: boolean } | null>(null);
  const moved = useRef(false);
  const onPick = useCallback(
    (id: string) => {
      if (moved.current) return; // the end of a drag, not a click
      const b = drawing.boxes.get(id);
      if (!b) return;
      // the node's quantized output if it has one, else its first output that was calibrated
      const node = model.prepared.graph!.node.find((n) => `node:${n.name}` === id);
      const outs = node ? node.output : [b.tensor];
      const t = outs.find((o) => stats?.[o]) ?? null;
      if (t) store.getState().selectTensor(t);
    },
    [drawing, model, stats, store],
  );

  return (
    <div className="graph-view" data-testid="graph-view">
      <div className="graph-toolbar">
        <button type="button" aria-label="Zoom into the graph" onClick={() => zoomAt(1.25, size.w / 2, size.h / 2)}>
          +
        </button>
        <button type="button" aria-label="Zoom out of the graph" onClick={() => zoomAt(0.8, size.w / 2, size.h / 2)}>
          −
        </button>
        <button type="button" onClick={fit} aria-label="Fit the graph">
          Fit
        </button>
        <button
          type="button"
          disabled={!firstBox}
          onClick={() => {
            if (!firstBox || !result?.firstDivergence) return;
            focusBox(firstBox);
            store.getState().selectTensor(result.firstDivergence);
          }}
        >
          Go to first divergence
        </button>
        <span className="muted small" data-testid="graph-zoom">
          {drawing.layout.nodes.length} nodes, {drawing.layout.layers} layers · {Math.round(v.k * 100)}%
        </span>
      </div>
      <GraphLegend hasResult={Boolean(result)} />
      <div
        className="graph-frame"
        ref={frame}
        onPointerDown={(e) => {
          drag.current = { x: e.clientX, y: e.clientY, tx: v.tx, ty: v.ty, moved: false };
          moved.current = false;
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (!d) return;
          const dx = e.clientX - d.x;
          const dy = e.clientY - d.y;
          if (!d.moved && Math.hypot(dx, dy) < 4) return;
          if (!d.moved) (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
          d.moved = true;
          moved.current = true;
          setView({ k: v.k, tx: d.tx + dx, ty: d.ty + dy });
        }}
        onPointerUp={() => {
          drag.current = null;
        }}
        onPointerCancel={() => {
          drag.current = null;
        }}
      >
        <svg width={size.w} height={size.h} role="img" aria-label="The model's graph">
          <g transform={`translate(${v.tx},${v.ty}) scale(${v.k})`}>
            <GraphBody drawing={drawing} rows={rows} first={firstBox} selectedBox={selectedBox} onPick={onPick} />
          </g>
        </svg>
      </div>
    </div>
  );
}

function GraphLegend({ hasResult }: { hasResult: boolean }) {
  const stops = [0, 10, 20, 30, SQNR_GOOD_DB];
  return (
    <div className="graph-legend small" data-testid="graph-legend">
      <span>accumulated SQNR</span>
      {stops.map((db) => (
        <span key={db} className="legend-stop">
          <i style={{ background: sqnrColour(db) }} />
          {db === SQNR_GOOD_DB ? `≥ ${db}` : db} dB
        </span>
      ))}
      <span className="legend-stop">
        <i style={{ background: sqnrColour(null) }} />
        {hasResult ? 'not quantized' : 'run the debugger to colour'}
      </span>
      <span className="legend-stop">
        <i style={{ border: '2px solid #b3261e', background: '#fff' }} />
        first divergence
      </span>
    </div>
  );
}
