// MethodTable: every method variant's range, scale and error on one tensor, with a button to use it.
import type { ActivationConfig } from '../core/config';
import type { QParamOptions } from '../core/conventions';
import {
  histogramRangeError,
  methodVariant,
  variantFields,
  type MethodStats,
  type MethodVariant,
} from '../core/methods';
import { quantParams } from '../core/conventions';
import { formatDb, formatNumber } from './format';
import { VARIANT_COLOR, type VariantRange } from './variantRanges';

export function MethodTable({
  variants,
  act,
  qopts,
  stats,
  variant,
  setOverride,
}: {
  variants: readonly VariantRange[] | null;
  act: ActivationConfig;
  qopts: QParamOptions;
  stats: MethodStats;
  variant: MethodVariant;
  setOverride: (next: Partial<ActivationConfig> | null, exclude?: boolean) => void;
}) {
  return (
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
                <span className="swatch" style={{ background: isChosen ? '#d1495b' : VARIANT_COLOR[v.id] }} /> {m.label}
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
  );
}
