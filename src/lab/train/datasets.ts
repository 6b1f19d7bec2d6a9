/**
 * TensorFlow Playground's 2-D datasets (playground/src/dataset.ts), seeded: two classes of points in
 * [-6, 6]², with a little noise.
 */
import { mulberry32, normalSampler } from '../../core/random';

export type DatasetName = 'circles' | 'spiral' | 'xor' | 'clusters';

export const DATASETS: readonly DatasetName[] = ['circles', 'spiral', 'xor', 'clusters'];

export interface Dataset {
  /** [x0, y0, x1, y1, ...] */
  readonly points: Float64Array;
  /** 0 or 1 per point. */
  readonly labels: Uint8Array;
  readonly count: number;
}

export function makeDataset(name: DatasetName, count: number, seed: number, noise = 0.1): Dataset {
  const rand = mulberry32(seed);
  const normal = normalSampler(rand);
  const points = new Float64Array(2 * count);
  const labels = new Uint8Array(count);
  const uniform = (a: number, b: number) => a + (b - a) * rand();
  for (let i = 0; i < count; i++) {
    let x = 0;
    let y = 0;
    let label = 0;
    switch (name) {
      case 'circles': {
        label = i % 2;
        const r = label ? uniform(0, 2.5) : uniform(3.5, 5);
        const a = uniform(0, 2 * Math.PI);
        x = r * Math.sin(a) + uniform(-5, 5) * noise * 0.5;
        y = r * Math.cos(a) + uniform(-5, 5) * noise * 0.5;
        break;
      }
      case 'xor': {
        x = uniform(-5, 5);
        y = uniform(-5, 5);
        x += x > 0 ? 0.3 : -0.3;
        y += y > 0 ? 0.3 : -0.3;
        label = x * y >= 0 ? 1 : 0;
        x += uniform(-5, 5) * noise * 0.5;
        y += uniform(-5, 5) * noise * 0.5;
        break;
      }
      case 'spiral': {
        label = i % 2;
        const k = Math.floor(i / 2);
        const half = Math.ceil(count / 2);
        const r = (k / half) * 5;
        const t = 1.75 * (k / half) * 2 * Math.PI + (label ? Math.PI : 0);
        x = r * Math.sin(t) + uniform(-1, 1) * noise * 2;
        y = r * Math.cos(t) + uniform(-1, 1) * noise * 2;
        break;
      }
      case 'clusters': {
        label = i % 2;
        const c = label ? 2 : -2;
        x = c + normal() * (0.5 + noise * 4);
        y = c + normal() * (0.5 + noise * 4);
        break;
      }
    }
    points[2 * i] = x;
    points[2 * i + 1] = y;
    labels[i] = label;
  }
  return { points, labels, count };
}
