/** The lessons' example tensors, seeded: what activations and weights commonly look like. */
import { mulberry32, normalSampler } from '../core/random';

export type DistributionName = 'normal' | 'relu' | 'skewed' | 'outlier';

export const DISTRIBUTIONS: readonly (readonly [DistributionName, string])[] = [
  ['normal', 'normal (weights)'],
  ['relu', 'ReLU output'],
  ['skewed', 'skewed (exponential)'],
  ['outlier', 'normal with an outlier'],
];

export function sampleDistribution(name: DistributionName, count: number, seed = 1): Float32Array {
  const rand = mulberry32(seed);
  const normal = normalSampler(rand);
  const out = new Float32Array(Math.max(0, Math.floor(count)));
  for (let i = 0; i < out.length; i++) {
    switch (name) {
      case 'normal':
        out[i] = normal();
        break;
      case 'relu':
        out[i] = Math.max(0, normal() * 1.5);
        break;
      case 'skewed':
        out[i] = -Math.log(1 - rand()) - 0.5;
        break;
      case 'outlier':
        out[i] = i === 7 ? 12 : normal();
        break;
    }
  }
  return out;
}

/** Counts of `data` in `bins` equal bins over [lo, hi] (values outside are left out). */
export function binCounts(data: ArrayLike<number>, lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins;
  if (!(w > 0)) return counts;
  for (let i = 0; i < data.length; i++) {
    const k = Math.floor((data[i]! - lo) / w);
    if (k >= 0 && k < bins) counts[k]!++;
    else if (data[i] === hi) counts[bins - 1]!++;
  }
  return counts;
}
