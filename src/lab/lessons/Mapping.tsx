/**
 * Lesson 1, the mapping: real values onto an integer grid, x_q = clamp(round(x / s) + z), and back,
 * x̂ = (x_q - z) s. The figure puts the data, the grid and the dequantized values on one number line,
 * and splits the error into rounding (inside the range) and clipping (outside it).
 */
import { useMemo } from 'react';
import { bitRange, fakeQuantize } from '../../core/quantize';
import { roundHalfToEven } from '../../core/rounding';
import { binCounts, DISTRIBUTIONS, sampleDistribution, type DistributionName } from '../distributions';
import { Choice, Controls, Figures, num, Slider, Toggle } from '../controls';
import { useBoolParam, useChoiceParam, useNumberParam } from '../url';

const W = 760;
const H = 220;

export interface MappingResult {
  readonly qmin: number;
  readonly qmax: number;
  readonly lo: number;
  readonly hi: number;
  readonly dequantized: Float32Array;
  readonly roundingMse: number;
  readonly clippingMse: number;
  readonly sqnrDb: number;
  readonly usedCodes: number;
  readonly wastedCodes: number;
  /** Codes below the zero point that no value uses. */
  readonly unusedNegativeCodes: number;
}

/** The lesson's numbers, from the tool's own quantize functions. */
export function mapValues(
  data: Float32Array,
  scale: number,
  zeroPoint: number,
  bits: number,
  symmetric: boolean,
): MappingResult | string {
  if (data.length === 0) return 'The distribution is empty: there is nothing to quantize.';
  if (!(scale > 0) || !Number.isFinite(scale))
    return 'The scale must be positive: a scale of 0 maps every value to infinity.';
  const { qmin, qmax } = bitRange(bits, symmetric, symmetric);
  const z = symmetric ? 0 : Math.min(qmax, Math.max(qmin, Math.round(zeroPoint)));
  const lo = (qmin - z) * scale;
  const hi = (qmax - z) * scale;
  const dequantized = new Float32Array(data.length);
  const used = new Set<number>();
  let rounding = 0;
  let clipping = 0;
  let signal = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    const xq = fakeQuantize(x, scale, z, qmin, qmax);
    dequantized[i] = xq;
    used.add(Math.min(qmax, Math.max(qmin, roundHalfToEven(x / scale) + z)));
    const e = (x - xq) ** 2;
    if (x < lo || x > hi) clipping += e;
    else rounding += e;
    signal += x * x;
  }
  let min = Infinity;
  let max = -Infinity;
  for (const x of data) {
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const qLo = Math.min(qmax, Math.max(qmin, roundHalfToEven(min / scale) + z));
  const qHi = Math.min(qmax, Math.max(qmin, roundHalfToEven(max / scale) + z));
  const total = qmax - qmin + 1;
  const noise = rounding + clipping;
  return {
    qmin,
    qmax,
    lo,
    hi,
    dequantized,
    roundingMse: rounding / data.length,
    clippingMse: clipping / data.length,
    sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(signal / noise),
    usedCodes: used.size,
    wastedCodes: total - (qHi - qLo + 1),
    unusedNegativeCodes: Math.max(0, Math.min(z, qLo) - qmin),
  };
}

/** Scale and zero point that fit the data's min/max (min-max calibration, range widened to hold 0). */
export function fitRange(data: Float32Array, bits: number, symmetric: boolean): { scale: number; zeroPoint: number } {
  let min = 0;
  let max = 0;
  for (const x of data) {
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const { qmin, qmax } = bitRange(bits, symmetric, symmetric);
  if (symmetric) {
    const a = Math.max(-min, max);
    return { scale: a > 0 ? a / Math.max(qmax, 1) : 1, zeroPoint: 0 };
  }
  const scale = max > min ? (max - min) / (qmax - qmin) : 1;
  return { scale, zeroPoint: roundHalfToEven(qmin - min / scale) };
}

export function MappingLesson() {
  const [dist, setDist] = useChoiceParam<DistributionName>(
    'dist',
    DISTRIBUTIONS.map(([d]) => d),
    'normal',
  );
  const [count, setCount] = useNumberParam('n', 2000, 0, 20000);
  const [bits, setBits] = useNumberParam('bits', 4, 1, 8);
  const [symmetric, setSymmetric] = useBoolParam('sym', true);
  const [auto, setAuto] = useBoolParam('fit', true);
  const [logScale, setLogScale] = useNumberParam('logscale', -1, -4, 1);
  const [zp, setZp] = useNumberParam('zp', 0, -128, 255);
  const data = useMemo(() => sampleDistribution(dist, count, 1), [dist, count]);
  const fit = fitRange(data, bits, symmetric);
  const scale = auto ? fit.scale : logScale <= -4 ? 0 : 10 ** logScale;
  const zeroPoint = auto ? fit.zeroPoint : zp;
  const r = mapValues(data, scale, zeroPoint, bits, symmetric);
  const grid = typeof r === 'string' ? null : r;
  // the number line spans the data and the range
  let lo = -1;
  let hi = 1;
  for (const x of data) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  if (grid) {
    lo = Math.min(lo, grid.lo);
    hi = Math.max(hi, grid.hi);
  }
  const pad = (hi - lo) * 0.04;
  lo -= pad;
  hi += pad;
  const X = (v: number) => 20 + ((v - lo) / (hi - lo)) * (W - 40);
  const bins = 120;
  const orig = binCounts(data, lo, hi, bins);
  const deq = grid ? binCounts(grid.dequantized, lo, hi, bins * 4) : [];
  const peak = Math.max(1, ...orig);
  const peakDeq = Math.max(1, ...deq);
  const codes = grid ? grid.qmax - grid.qmin + 1 : 0;
  const tickEvery = codes > 64 ? Math.ceil(codes / 64) : 1;
  return (
    <article className="lesson" data-testid="lesson-mapping">
      <h2>1 · The mapping</h2>
      <p>
        Quantization maps a real value x to an integer <code>q = clamp(round(x / s) + z, qmin, qmax)</code> and back to{' '}
        <code>x̂ = (q − z)·s</code>. The scale <i>s</i> sets the grid's spacing, the zero point <i>z</i> where real 0
        lands. Values inside the grid's range are rounded (a small error, at most s/2); values outside are clipped (an
        error that grows with the distance). Codes that no value reaches are wasted.
      </p>
      <Controls>
        <Choice label="Distribution" value={dist} options={DISTRIBUTIONS} onChange={setDist} />
        <Slider label="Values" value={count} min={0} max={5000} step={100} onChange={setCount} />
        <Slider label="Bits" value={bits} min={1} max={8} step={1} onChange={setBits} />
        <Toggle label="Symmetric" value={symmetric} onChange={setSymmetric} />
        <Toggle label="Fit the range to the data (min-max)" value={auto} onChange={setAuto} />
        {!auto && (
          <>
            <Slider
              label="Scale (log10)"
              value={logScale}
              min={-4}
              max={1}
              step={0.01}
              onChange={setLogScale}
              format={(v) => (v <= -4 ? '0' : num(10 ** v, 3))}
            />
            {!symmetric && (
              <Slider label="Zero point" value={zp} min={0} max={2 ** bits - 1} step={1} onChange={setZp} />
            )}
          </>
        )}
      </Controls>
      <svg className="lab-figure" viewBox={`0 0 ${W} ${H}`} data-testid="mapping-figure">
        {grid && (
          <rect
            x={X(grid.lo)}
            y={10}
            width={Math.max(0, X(grid.hi) - X(grid.lo))}
            height={H - 50}
            fill="#4f7cff"
            opacity={0.07}
          />
        )}
        {orig.map((c, k) => {
          const h = (c / peak) * 80;
          return (
            <rect
              key={k}
              x={20 + (k * (W - 40)) / bins}
              y={100 - h}
              width={(W - 40) / bins}
              height={h}
              fill="#b8c2dc"
            />
          );
        })}
        {deq.map((c, k) =>
          c > 0 ? (
            <rect
              key={k}
              x={20 + (k * (W - 40)) / (bins * 4)}
              y={170 - (c / peakDeq) * 60}
              width={1.5}
              height={(c / peakDeq) * 60}
              fill="#3553c9"
            />
          ) : null,
        )}
        <line x1={20} x2={W - 20} y1={172} y2={172} stroke="#333" />
        {grid &&
          Array.from({ length: codes }, (_, k) => grid.qmin + k)
            .filter((q) => (q - grid.qmin) % tickEvery === 0 || q === grid.qmax)
            .map((q) => {
              const x = X((q - (symmetric ? 0 : zeroPoint)) * scale);
              return (
                <line
                  key={q}
                  x1={x}
                  x2={x}
                  y1={168}
                  y2={178}
                  stroke={q === (symmetric ? 0 : zeroPoint) ? '#d1495b' : '#555'}
                  strokeWidth={q === (symmetric ? 0 : zeroPoint) ? 2 : 1}
                />
              );
            })}
        {grid && (
          <>
            <text x={X(grid.lo)} y={198} fontSize={11} textAnchor="middle">
              {num(grid.lo, 3)} (q={grid.qmin})
            </text>
            <text x={X(grid.hi)} y={198} fontSize={11} textAnchor="middle">
              {num(grid.hi, 3)} (q={grid.qmax})
            </text>
          </>
        )}
        <text x={24} y={22} fontSize={11} fill="#5a6478">
          data (grey) · dequantized values (blue spikes, on the grid below)
        </text>
      </svg>
      {typeof r === 'string' ? (
        <p className="error" data-testid="lesson-message">
          {r}
        </p>
      ) : (
        <Figures
          items={[
            { id: 'fig-scale', label: 'scale s', value: num(scale) },
            { id: 'fig-zero-point', label: 'zero point z', value: String(symmetric ? 0 : zeroPoint) },
            { id: 'fig-codes', label: 'codes', value: `${r.qmin} … ${r.qmax} (${codes})` },
            { id: 'fig-wasted', label: 'codes wasted', value: String(r.wastedCodes) },
            { id: 'fig-negative-wasted', label: 'negative codes unused', value: String(r.unusedNegativeCodes) },
            { id: 'fig-rounding', label: 'rounding error (MSE)', value: num(r.roundingMse) },
            { id: 'fig-clipping', label: 'clipping error (MSE)', value: num(r.clippingMse) },
            { id: 'fig-sqnr', label: 'SQNR (dB)', value: num(r.sqnrDb, 3) },
          ]}
        />
      )}
    </article>
  );
}
