/**
 * Lesson 2, choosing the range: clip at ±T and quantize. A small T rounds finely but clips the tails;
 * a large one keeps every value but rounds coarsely. The MSE-against-T curve shows the trade, and
 * where min-max, percentile, entropy and MSE land on it, computed by the tool's own methods on the
 * same histogram, for a built-in distribution or any tensor of the model loaded in the tool.
 */
import { useMemo } from 'react';
import type { IntDType } from '../../core/dtype';
import { createHistogram, histogramEdges, histogramRange, type HistogramState } from '../../core/histogram';
import { updateHistogram } from '../../core/histogramFold';
import { histogramRangeError, methodRange, type MethodStats } from '../../core/methods';
import { createMinMax, updateMinMax } from '../../core/minmax';
import { useApp } from '../../ui/useApp';
import { DISTRIBUTIONS, sampleDistribution, type DistributionName } from '../distributions';
import { Choice, Controls, Figures, num, Slider } from '../controls';
import { useChoiceParam, useNumberParam, useStringParam } from '../url';

const W = 760;
const MARKERS = [
  ['minmax', 'min-max', '#7a869a'],
  ['percentile', 'percentile 99.99 |x|', '#2a9d8f'],
  ['entropy', 'entropy (KL)', '#e9a23b'],
  ['mse', 'MSE search', '#8e5cd9'],
] as const;

function statsOf(data: Float32Array): MethodStats {
  return { minmax: updateMinMax(createMinMax(), data), histogram: updateHistogram(createHistogram(2048), data) };
}

/** The MSE of clipping to [-T, T] (or [0, T] for non-negative data) at `dtype`, on the histogram. */
export function thresholdError(h: HistogramState, t: number, dtype: IntDType, nonNegative: boolean): number {
  if (!(t > 0)) return NaN;
  return histogramRangeError(h, nonNegative ? 0 : -t, t, dtype, !nonNegative).mse;
}

/**
 * A lower bound of the data's smallest |x|, to the histogram's bin: 0 where a non-empty bin holds 0,
 * else the nearest edge of the non-empty bin closest to 0. Below it, ±T clips every value.
 */
export function smallestAbsBound(h: HistogramState): number {
  const [lo, hi] = histogramRange(h);
  const edges = histogramEdges(lo, hi, h.counts.length);
  let bound = Infinity;
  for (let i = 0; i < h.counts.length; i++) {
    if (h.counts[i] === 0) continue;
    const a = edges[i]!;
    const b = edges[i + 1]!;
    bound = Math.min(bound, a <= 0 && b >= 0 ? 0 : Math.min(Math.abs(a), Math.abs(b)));
  }
  return bound;
}

export function RangeLesson() {
  const [dist, setDist] = useChoiceParam<DistributionName>(
    'dist',
    DISTRIBUTIONS.map(([d]) => d),
    'outlier',
  );
  const [tensor] = useStringParam('tensor', '');
  const [bits, setBits] = useChoiceParam<'8' | '4'>('bits', ['8', '4'], '8');
  const dtype: IntDType = bits === '8' ? 'int8' : 'int4';
  // a tensor of the loaded model, when the link came from the explorer
  const modelStats = useApp((s) => (tensor ? s.calibration.stats?.[tensor] : undefined));
  const stats = useMemo(() => modelStats ?? statsOf(sampleDistribution(dist, 20000, 3)), [modelStats, dist]);
  const { min, max } = stats.minmax;
  const amax = Math.max(Math.abs(min), Math.abs(max));
  const nonNegative = min >= 0;
  const [frac, setFrac] = useNumberParam('t', 0.5, 0, 1);
  const t = frac * amax;
  const curve = useMemo(() => {
    const pts: [number, number][] = [];
    for (let k = 1; k <= 120; k++) {
      const tk = (amax * k) / 120;
      pts.push([tk, thresholdError(stats.histogram, tk, dtype, nonNegative)]);
    }
    return pts;
  }, [stats, amax, dtype, nonNegative]);
  const markers = useMemo(
    () =>
      MARKERS.map(([m, label, color]) => {
        try {
          const r = methodRange(stats, m);
          // the method's own range, quantized asymmetrically as it is used for activations (the
          // curve is symmetric ±T: an asymmetric range can beat every point on it)
          const own = histogramRangeError(stats.histogram, r.rmin, r.rmax, dtype, false).mse;
          return { m, label, color, t: Math.max(Math.abs(r.rmin), Math.abs(r.rmax)), r, own };
        } catch {
          return null;
        }
      }).filter((x) => x !== null),
    [stats, dtype],
  );
  const err = thresholdError(stats.histogram, t, dtype, nonNegative);
  const best = curve.reduce((a, p) => (p[1] < a[1] ? p : a), [amax, Infinity] as [number, number]);
  const finite = curve.filter((p) => Number.isFinite(p[1]));
  const maxErr = Math.max(...finite.map((p) => p[1]), 1e-30);
  const minErr = Math.min(...finite.map((p) => p[1]).filter((v) => v > 0), maxErr);
  // log-scale error axis
  const Y = (e: number) =>
    170 -
    ((Math.log10(Math.max(e, minErr)) - Math.log10(minErr)) / Math.max(1e-9, Math.log10(maxErr) - Math.log10(minErr))) *
      150;
  const X = (v: number) => 40 + (v / amax) * (W - 60);
  const smallest = useMemo(() => smallestAbsBound(stats.histogram), [stats]);
  // every value beyond ±T; otherwise only the tails are (min and max themselves are only its ends)
  const below = t < smallest;
  return (
    <article className="lesson" data-testid="lesson-range">
      <h2>2 · Choosing the range</h2>
      <p>
        Calibration picks the clipping threshold T. Min-max keeps every value; percentile drops a tiny fraction of the
        tails; entropy keeps the distribution's shape (least KL divergence); the MSE search (PyTorch's
        HistogramObserver) cuts one tail or the other while its estimate of the squared error falls, and stops at the
        first rise. Drag T and watch the error: rounding error grows with T, clipping error shrinks. The curve clips
        symmetrically at ±T; the methods pick a range [min, max] of their own, quantized with a zero point, whose error
        (beside each, in the figures) can be below every point of the curve: a skewed tensor wastes none of its codes on
        the side it does not reach.
        {modelStats ? (
          <>
            {' '}
            This is tensor <code data-testid="lesson-tensor">{tensor}</code> of the loaded model.
          </>
        ) : tensor ? (
          <span className="warn-text">
            {' '}
            Tensor "{tensor}" is not in this session's calibration: showing a built-in distribution.
          </span>
        ) : null}
      </p>
      <Controls>
        {!modelStats && <Choice label="Distribution" value={dist} options={DISTRIBUTIONS} onChange={setDist} />}
        <Choice
          label="Integer type"
          value={bits}
          options={[
            ['8', 'int8'],
            ['4', 'int4'],
          ]}
          onChange={setBits}
        />
        <Slider
          label="Threshold T"
          value={frac}
          min={0}
          max={1}
          step={0.005}
          onChange={setFrac}
          format={(v) => num(v * amax, 4)}
        />
      </Controls>
      <svg className="lab-figure" viewBox={`0 0 ${W} 200`} data-testid="range-figure">
        <polyline
          fill="none"
          stroke="#3553c9"
          strokeWidth={2}
          points={finite.map(([x, e]) => `${X(x)},${Y(e)}`).join(' ')}
        />
        <line x1={X(t)} x2={X(t)} y1={15} y2={175} stroke="#d1495b" strokeWidth={2} />
        {markers.map((mk, k) => (
          <g key={mk.m}>
            <line x1={X(mk.t)} x2={X(mk.t)} y1={20} y2={175} stroke={mk.color} strokeDasharray="4 3" />
            <text
              x={X(mk.t) > W - 160 ? X(mk.t) - 3 : X(mk.t) + 3}
              y={30 + 12 * k}
              fontSize={11}
              fill={mk.color}
              textAnchor={X(mk.t) > W - 160 ? 'end' : 'start'}
            >
              {mk.label}
            </text>
          </g>
        ))}
        <line x1={40} x2={W - 20} y1={175} y2={175} stroke="#333" />
        <text x={40} y={192} fontSize={11}>
          0
        </text>
        <text x={W - 20} y={192} fontSize={11} textAnchor="end">
          max|x| = {num(amax, 3)}
        </text>
        <text x={44} y={14} fontSize={11} fill="#5a6478">
          MSE against the threshold T (log scale)
        </text>
      </svg>
      {below && (
        <p className="warn-text">
          T is below the smallest |x| in the data (about {num(smallest, 3)}): every value is clipped.
        </p>
      )}
      <Figures
        items={[
          { id: 'fig-threshold', label: 'T', value: num(t) },
          { id: 'fig-mse-at-t', label: 'MSE at T', value: Number.isFinite(err) ? num(err) : 'T must be above 0' },
          { id: 'fig-best-t', label: 'least MSE on the curve: T, MSE', value: `${num(best[0])}, ${num(best[1])}` },
          ...markers.map((mk) => ({
            id: `fig-method-${mk.m}`,
            label: `${mk.label}: T, MSE; own range, MSE`,
            value: `${num(mk.t)}, ${num(thresholdError(stats.histogram, mk.t, dtype, nonNegative))}; [${num(mk.r.rmin)}, ${num(mk.r.rmax)}], ${num(mk.own)}`,
          })),
        ]}
      />
    </article>
  );
}
