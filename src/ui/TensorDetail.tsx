import { useEffect, useMemo, useState } from 'react';
import { activationConfigFor, activationRange, type ActivationConfig } from '../core/config';
import { quantParams, quantRangeFor } from '../core/conventions';
import { toErrorInfo } from '../core/errors';
import {
  checkManualRange,
  codeUsage,
  histogramRangeError,
  methodVariant,
  variantOf,
  type MethodStats,
} from '../core/methods';
import type { Range } from '../core/methods/percentile';
import { finalizeMinMax, isNonFinite } from '../core/minmax';
import type { NodeProto } from '../onnx';
import { formatDb, formatNumber } from './format';
import { HistogramChart } from './HistogramChart';
import { fitDomain } from './histogramPlot';
import { onLinkClick } from './route';
import { useApp, useAppStore } from './useApp';
import { useVariantRanges, VARIANT_COLOR } from './variantRanges';
import { ChartToolbar } from './ChartToolbar';
import { MethodTable } from './MethodTable';
import { SymmetryRows } from './SymmetryRows';
import { TensorChoices } from './TensorChoices';

export function TensorDetail({
  tensor,
  stats,
  producer,
}: {
  tensor: string;
  stats: MethodStats;
  producer: NodeProto | undefined;
}) {
  const config = useApp((s) => s.config);
  const store = useAppStore();
  const [logScale, setLogScale] = useState(true);
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const [live, setLive] = useState<Range | null>(null);
  const [manualText, setManualText] = useState<{ rmin: string; rmax: string } | null>(null);
  // one object per configuration, tensor and producer: the memos below depend on it as a whole
  const act = useMemo(() => activationConfigFor(config, tensor, producer?.opType), [config, tensor, producer?.opType]);
  const override = config.tensors?.[tensor];
  const finite = !isNonFinite(stats.minmax) && finalizeMinMax(stats.minmax) !== null;
  const variants = useVariantRanges(stats, act.percentile);
  // The range in use, as the export will compute it.
  const chosen = useMemo((): { range: Range | null; error: string | null } => {
    if (!finite) return { range: null, error: null };
    try {
      return { range: activationRange(stats, act), error: null };
    } catch (e) {
      return { range: null, error: toErrorInfo(e).message };
    }
  }, [stats, finite, act]);
  useEffect(() => {
    setZoom(null);
    setLive(null);
    setManualText(null);
  }, [tensor]);
  const others = useMemo(
    () =>
      (variants ?? [])
        .filter((v) => !v.error && v.id !== variantOf(act.method, act).id)
        .map((v) => ({ label: methodVariant(v.id)!.short, rmin: v.rmin, rmax: v.rmax, color: VARIANT_COLOR[v.id] })),
    [variants, act],
  );
  const baseDomain = useMemo(
    () => fitDomain(stats.histogram, [...others, ...(chosen.range ? [chosen.range] : [])]),
    [stats, others, chosen.range],
  );
  const domain = zoom ?? baseDomain;
  const shown = live ?? chosen.range;
  const qopts = { symmetric: act.symmetric, reduceRange: act.reduceRange, convention: act.convention };
  const qpRaw = shown ? quantParams(shown.rmin, shown.rmax, act.dtype, qopts) : null;
  // A width past float32's largest value has no scale: the export keeps such a tensor float.
  const qp = qpRaw && Number.isFinite(qpRaw.scale) ? qpRaw : null;
  const grid = qp ? { ...qp, ...quantRangeFor(act.dtype, qopts) } : null;
  const liveError = shown && qp ? histogramRangeError(stats.histogram, shown.rmin, shown.rmax, act.dtype, qopts) : null;
  const setOverride = (next: Partial<ActivationConfig> | null, exclude?: boolean) =>
    store.getState().editConfig({ kind: 'tensor', tensor, activations: next, exclude });
  const variant = variantOf(act.method, act);
  const label = act.range ? 'manual' : variant.label;
  const zoomBy = (f: number) => {
    const [lo, hi] = domain;
    const c = (lo + hi) / 2;
    const h = ((hi - lo) / 2) * f;
    setZoom([c - h, c + h]);
  };
  const pan = (f: number) => {
    const [lo, hi] = domain;
    const d = (hi - lo) * f;
    setZoom([lo + d, hi + d]);
  };
  // the typed manual range, checked once: a message (a note when usable, an error when not)
  const manualCheck = ((): { valid: boolean; message: string | null } => {
    if (!manualText) return { valid: false, message: null };
    try {
      const note = checkManualRange(Number(manualText.rmin), Number(manualText.rmax)).note ?? null;
      return { valid: manualText.rmin.trim() !== '' && manualText.rmax.trim() !== '', message: note };
    } catch (e) {
      return { valid: false, message: toErrorInfo(e).message };
    }
  })();
  const manualError = manualCheck.message;
  const manualValid = manualCheck.valid;
  /** What a manual-range box shows: the typed text, else the manual range set, else nothing. */
  const draft = (end: 'rmin' | 'rmax', fallback: string) =>
    manualText?.[end] ?? (act.range ? String(act.range[end]) : fallback);
  const editDraft = (end: 'rmin' | 'rmax', value: string) => {
    const other = end === 'rmin' ? 'rmax' : 'rmin';
    setManualText({ [end]: value, [other]: draft(other, String(chosen.range?.[other] ?? '')) } as {
      rmin: string;
      rmax: string;
    });
  };
  const usage = (symmetric: boolean) => {
    if (!shown || !qp) return null;
    const o = { ...qopts, symmetric };
    return {
      usage: codeUsage(shown.rmin, shown.rmax, stats.minmax.min, stats.minmax.max, act.dtype, o),
      error: histogramRangeError(stats.histogram, shown.rmin, shown.rmax, act.dtype, o),
    };
  };
  return (
    <>
      <h3 data-testid="selected-tensor">{tensor}</h3>
      <p className="muted" data-testid="tensor-detail-producer">
        {producer ? `output of ${producer.opType} "${producer.name}"` : 'graph input'} ·{' '}
        {stats.minmax.count.toLocaleString()} values over all samples
        {stats.abs ? ' · onnxruntime-exact statistics (two passes)' : ''}
      </p>
      {stats.histogram.rebinned > 0 && (
        <p className="warn-text" data-testid="rebinned">
          This tensor's range grew more than 16-fold during calibration: its histogram was re-binned to{' '}
          {stats.histogram.binCount} bins, so its counts are approximate (its min/max are exact).
        </p>
      )}
      {!finite && <p className="error">This tensor produced NaN or Infinity: it stays float in the export.</p>}
      {finite && (
        <>
          <ChartToolbar
            logScale={logScale}
            setLogScale={setLogScale}
            zoomBy={zoomBy}
            pan={pan}
            shown={shown}
            setZoom={setZoom}
          />
          <HistogramChart
            histogram={stats.histogram}
            range={shown ? { label, ...shown } : null}
            others={others}
            logScale={logScale}
            domain={domain}
            grid={grid}
            onDrag={(rmin, rmax) => setLive({ rmin, rmax })}
            onCommit={(rmin, rmax) => {
              setLive(null);
              setOverride({ range: { rmin: Math.fround(rmin), rmax: Math.fround(rmax) } });
            }}
          />
          {shown && qp && liveError && (
            <p data-testid="tensor-range">
              {live ? 'dragging' : label} range [<span data-testid="range-min">{formatNumber(shown.rmin)}</span>,{' '}
              <span data-testid="range-max">{formatNumber(shown.rmax)}</span>] → {act.dtype}{' '}
              {act.symmetric ? 'symmetric' : 'asymmetric'}
              {act.convention === 'pytorch' ? ' (PyTorch rules)' : ''}
              {act.reduceRange ? ', reduced range' : ''}: scale{' '}
              <span data-testid="tensor-scale">{qp.scale.toPrecision(9)}</span>, zero point{' '}
              <span data-testid="tensor-zero-point">{qp.zeroPoint}</span> · SQNR{' '}
              <span data-testid="live-sqnr">{formatDb(liveError.sqnrDb)}</span> dB, MSE {liveError.mse.toExponential(2)}
            </p>
          )}
          {chosen.error && <p className="error">{chosen.error}</p>}
          {shown && !qp && (
            <p className="error" data-testid="range-overflow">
              The range [{formatNumber(shown.rmin)}, {formatNumber(shown.rmax)}] is wider than float32 can hold: its
              scale would be infinite, so this tensor stays float in the export.
            </p>
          )}
          {stats.histogramError && (
            <p className="warn-text">{stats.histogramError}: the histogram methods are unavailable for this tensor.</p>
          )}
          <p className="muted small">
            Drag the red handles to set this tensor's range by hand; the error updates as you drag and the export uses
            the range you release.{' '}
            <a
              href={`/lab/range?tensor=${encodeURIComponent(tensor)}`}
              onClick={(e) => onLinkClick(e, `/lab/range?tensor=${encodeURIComponent(tensor)}`)}
              data-testid="why-range"
            >
              Why? The lesson on choosing a range, on this tensor →
            </a>
          </p>
          <MethodTable
            variants={variants}
            act={act}
            qopts={qopts}
            stats={stats}
            variant={variant}
            setOverride={setOverride}
          />
          {shown && qp && <SymmetryRows usage={usage} />}
          <TensorChoices override={override} variant={variant} act={act} setOverride={setOverride} />
          <div className="row small manual-range">
            <span className="muted">Manual range:</span>
            <input
              aria-label="Manual range min"
              className="num"
              value={draft('rmin', '')}
              placeholder={chosen.range ? formatNumber(chosen.range.rmin) : 'min'}
              onChange={(e) => editDraft('rmin', e.target.value)}
            />
            <input
              aria-label="Manual range max"
              className="num"
              value={draft('rmax', '')}
              placeholder={chosen.range ? formatNumber(chosen.range.rmax) : 'max'}
              onChange={(e) => editDraft('rmax', e.target.value)}
            />
            <button
              type="button"
              disabled={!manualValid}
              onClick={() => {
                setOverride({
                  range: { rmin: Math.fround(Number(manualText!.rmin)), rmax: Math.fround(Number(manualText!.rmax)) },
                });
                setManualText(null);
              }}
            >
              Set range
            </button>
            {act.range && (
              <button
                type="button"
                className="link"
                onClick={() => {
                  setOverride({ range: undefined });
                  setManualText(null);
                }}
              >
                clear manual range
              </button>
            )}
            {manualError && (
              <span className={manualValid ? 'muted' : 'error'} data-testid="manual-range-message">
                {manualError}
              </span>
            )}
          </div>
        </>
      )}
    </>
  );
}
