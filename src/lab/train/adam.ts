/** Adam for the lab's MLP (see mlp.ts). */
import type { Dataset } from './datasets';
import { lossAndGradients, type Mlp, type Quantization } from './mlp';

export interface Adam {
  readonly mw: Float64Array[];
  readonly vw: Float64Array[];
  readonly mb: Float64Array[];
  readonly vb: Float64Array[];
  t: number;
}

export function createAdam(m: Mlp): Adam {
  return {
    mw: m.layers.map((l) => new Float64Array(l.w.length)),
    vw: m.layers.map((l) => new Float64Array(l.w.length)),
    mb: m.layers.map((l) => new Float64Array(l.b.length)),
    vb: m.layers.map((l) => new Float64Array(l.b.length)),
    t: 0,
  };
}

/** One full-batch Adam step; returns the loss before it. */
export function trainStep(m: Mlp, opt: Adam, d: Dataset, q: Quantization, lr = 0.03): number {
  const { loss, gw, gb } = lossAndGradients(m, d, q);
  opt.t++;
  const b1 = 0.9;
  const b2 = 0.999;
  const c1 = 1 - b1 ** opt.t;
  const c2 = 1 - b2 ** opt.t;
  const update = (p: Float64Array, g: Float64Array, mm: Float64Array, vv: Float64Array) => {
    for (let i = 0; i < p.length; i++) {
      mm[i] = b1 * mm[i]! + (1 - b1) * g[i]!;
      vv[i] = b2 * vv[i]! + (1 - b2) * g[i]! * g[i]!;
      p[i]! -= (lr * (mm[i]! / c1)) / (Math.sqrt(vv[i]! / c2) + 1e-8);
    }
  };
  m.layers.forEach((l, k) => {
    update(l.w, gw[k]!, opt.mw[k]!, opt.vw[k]!);
    update(l.b, gb[k]!, opt.mb[k]!, opt.vb[k]!);
  });
  return loss;
}
