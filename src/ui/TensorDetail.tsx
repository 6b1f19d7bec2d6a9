import { useEffect, useMemo, useState } from 'react';
import { activationConfigFor, activationRange, type ActivationConfig } from '../core/config';
import { quantParams, quantRangeFor } from '../core/conventions';
import type { IntDType } from '../core/dtype';
import { toErrorInfo } from '../core/errors';
import {
  checkManualRange,
  codeUsage,
  histogramRangeError,
  methodRange,
  METHOD_VARIANTS,
  methodVariant,
  NO_VARIANT_FIELDS,
  variantFields,
  variantOf,
  type MethodStats,
} from '../core/methods';
import type { Range } from '../core/methods/percentile';
import { finalizeMinMax, isNonFinite } from '../core/minmax';
import type { NodeProto } from '../onnx';
import { formatDb, formatNumber } from './format';
import { fitDomain, HistogramChart } from './HistogramChart';
import { onLinkClick } from './route';
import { appStore, useApp } from './useApp';

const VARIANT_COLOR: Record<string, string> = {
  minmax: '#7a869a',
  'moving-average': '#5b8e7d',
  'moving-average-pytorch': '#8cb369',
  percentile: '#2a9d8f',
  'percentile-two-tailed': '#43aa8b',
  entropy: '#e9a23b',
  'entropy-ort-defaults': '#c9a227',
  'entropy-tensorrt': '#f3722c',
  mse: '#8e5cd9',
};

const ACT_DTYPES: IntDType[] = ['int8', 'uint8', 'int16', 'uint16'];

interface VariantRange extends Range {
  readonly id: string;
  readonly error?: string;
}

/** Every variant's range on this tensor; the searches (entropy, MSE: ~2 ms each) run after the first frame. */
function useVariantRanges(stats: MethodStats, percentile: number | undefined): readonly VariantRange[] | null {
  const [out, setOut] = useState<{ for: unknown; ranges: VariantRange[] } | null>(null);
  useEffect(() => {
    const id = setTimeout(() => {
      // PyTorch's HistogramObserver has a row once calibration kept its histogram (a PyTorch preset)
      const shown = METHOD_VARIANTS.filter((v) => v.params.mseHistogram !== 'pytorch' || stats.torchHistogram);
      const ranges = shown.map((v): VariantRange => {
        try {
          return { id: v.id, ...methodRange(stats, v.method, { ...v.params, percentile }) };
        } catch (e) {
          return { id: v.id, rmin: NaN, rmax: NaN, error: toErrorInfo(e).message };
        }
      });
      setOut({ for: stats, ranges });
    }, 16);
    return () => clearTimeout(id);
  }, [stats, percentile]);
  return out?.for === stats ? out.ranges : null;
}

function CodeBar({ usage, testId }: { usage: ReturnType<typeof codeUsage>; testId: string }) {
  const span = usage.qmax - usage.qmin || 1;
  const left = ((usage.usedLow - usage.qmin) / span) * 100;
  const width = Math.max(0.5, ((usage.usedHigh - usage.usedLow) / span) * 100);
  return (
    <div
      className="codebar"
      data-testid={testId}
      title={`codes ${usage.usedLow}…${usage.usedHigh} of ${usage.qmin}…${usage.qmax}`}
    >
      <div className="used" style={{ left: `${left}%`, width: `${width}%` }} />
      <span className="lo">{usage.qmin}</span>
      <span className="hi">{usage.qmax}</span>
    </div>
  );
}

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
    appStore.getState().setConfig((c) => {
      const tensors = { ...c.tensors };
      if (next === null) delete tensors[tensor];
      else
        tensors[tensor] = {
          ...tensors[tensor],
          activations: { ...tensors[tensor]?.activations, ...next },
          ...(exclude !== undefined ? { exclude } : {}),
        };
      return { ...c, tensors };
    });
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
          <table className="io small-table" data-testid="method-table">
            <thead>
              <tr>
                <th>method</th>
                <th>range</th>
                <th>scale</th>
                <th>MSE</th>
                <th>SQNR (dB)</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(variants ?? []).map((v) => {
                const m = methodVariant(v.id)!;
                const err =
                  v.error || !Number.isFinite(quantParams(v.rmin, v.rmax, act.dtype, qopts).scale)
                    ? null
                    : histogramRangeError(stats.histogram, v.rmin, v.rmax, act.dtype, qopts);
                const isChosen = !act.range && v.id === variant.id;
                return (
                  <tr key={v.id} className={isChosen ? 'chosen' : ''} data-testid={`method-${v.id}`} title={m.note}>
                    <td>
                      <span className="swatch" style={{ background: isChosen ? '#d1495b' : VARIANT_COLOR[v.id] }} />{' '}
                      {m.label}
                    </td>
                    {err ? (
                      <>
                        <td>
                          [{formatNumber(v.rmin)}, {formatNumber(v.rmax)}]
                        </td>
                        <td>{formatNumber(err.scale)}</td>
                        <td>{err.mse.toExponential(2)}</td>
                        <td data-testid={`sqnr-${v.id}`}>{formatDb(err.sqnrDb)}</td>
                        <td>
                          {!isChosen && (
                            <button
                              type="button"
                              className="link"
                              onClick={() => setOverride({ ...variantFields(m), range: undefined })}
                              aria-label={`Use ${m.label} for this tensor`}
                            >
                              use
                            </button>
                          )}
                        </td>
                      </>
                    ) : (
                      <td colSpan={5} className="muted">
                        {v.error ?? 'no finite scale: the range overflows float32'}
                      </td>
                    )}
                  </tr>
                );
              })}
              {!variants && (
                <tr>
                  <td colSpan={6} className="muted">
                    searching…
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          {shown && qp && (
            <div className="symmetry" data-testid="symmetry">
              <h4>Symmetric vs asymmetric, on this range</h4>
              {([false, true] as const).map((sym) => {
                const u = usage(sym)!;
                return (
                  <div
                    key={String(sym)}
                    className="symmetry-row"
                    data-testid={sym ? 'symmetric-row' : 'asymmetric-row'}
                  >
                    <span className="what">{sym ? 'symmetric' : 'asymmetric'}</span>
                    <CodeBar usage={u.usage} testId={sym ? 'codes-symmetric' : 'codes-asymmetric'} />
                    <span>
                      codes {u.usage.usedLow}…{u.usage.usedHigh}:{' '}
                      <b data-testid={sym ? 'wasted-symmetric' : 'wasted-asymmetric'}>{u.usage.wasted}</b> of{' '}
                      {u.usage.total} wasted · SQNR {formatDb(u.error.sqnrDb)} dB
                    </span>
                  </div>
                );
              })}
            </div>
          )}
          <div className="row small tensor-choices">
            <span className="muted">This tensor:</span>
            <select
              aria-label="Tensor method"
              value={override?.activations?.method ? variant.id : 'default'}
              onChange={(e) =>
                setOverride(
                  e.target.value === 'default' ? NO_VARIANT_FIELDS : variantFields(methodVariant(e.target.value)!),
                )
              }
            >
              <option value="default">model default method</option>
              {METHOD_VARIANTS.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.label}
                </option>
              ))}
            </select>
            <select
              aria-label="Tensor dtype"
              value={override?.activations?.dtype ?? 'default'}
              onChange={(e) =>
                setOverride({ dtype: e.target.value === 'default' ? undefined : (e.target.value as IntDType) })
              }
            >
              <option value="default">model default</option>
              {ACT_DTYPES.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
            <label>
              <input
                type="checkbox"
                aria-label="Tensor symmetric"
                checked={act.symmetric}
                onChange={(e) => setOverride({ symmetric: e.target.checked })}
              />{' '}
              symmetric
            </label>
            <label>
              <input
                type="checkbox"
                aria-label="Keep tensor float"
                checked={override?.exclude === true}
                onChange={(e) => setOverride({}, e.target.checked)}
              />{' '}
              keep float
            </label>
            {override && (
              <button type="button" className="link" onClick={() => setOverride(null)}>
                reset this tensor
              </button>
            )}
          </div>
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
