/**
 * A 2-D convolution as a matrix product (im2col): each output position's receptive field becomes one
 * row of (C/group)·kH·kW values, in the weight's own flattening order c·kH·kW + i·kW + j (ONNX Conv
 * weight [M, C/group, kH, kW]), so that Conv(x, W) = rows · W_flatᵀ per group. This is the matrix
 * whose second moments GPTQ and AdaRound need (IST-DASLab/gptq gptq.py uses torch's nn.Unfold the same
 * way). A 1-D convolution is the case H = 1.
 */
import { QuantscopeError } from '../errors';

export interface ConvGeometry {
  /** Input [N, C, H, W] (rank 3 inputs are [N, C, W] with H = 1). */
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly group: number;
  readonly kh: number;
  readonly kw: number;
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  /** [top, left, bottom, right]. */
  readonly pads: readonly [number, number, number, number];
}

export function outputSize(g: ConvGeometry): { oh: number; ow: number } {
  const oh = Math.floor((g.h + g.pads[0] + g.pads[2] - g.dilations[0] * (g.kh - 1) - 1) / g.strides[0]) + 1;
  const ow = Math.floor((g.w + g.pads[1] + g.pads[3] - g.dilations[1] * (g.kw - 1) - 1) / g.strides[1]) + 1;
  if (!(oh > 0 && ow > 0))
    throw new QuantscopeError('BAD_TENSOR', `a ${g.kh}x${g.kw} kernel does not fit a ${g.h}x${g.w} input`);
  return { oh, ow };
}

/** Rows of the im2col matrix of one group. */
export function im2colRowCount(g: ConvGeometry): number {
  const { oh, ow } = outputSize(g);
  return g.n * oh * ow;
}

/**
 * Writes rows [start, start + count) of group `grp`'s im2col matrix into `out` (row-major, (C/group)·kH·kW
 * columns). Positions outside the input (padding) are 0, as Conv pads.
 */
export function im2colRows(
  x: ArrayLike<number>,
  g: ConvGeometry,
  grp: number,
  start: number,
  count: number,
  out: Float64Array,
): void {
  const { oh, ow } = outputSize(g);
  const cg = g.c / g.group;
  const cols = cg * g.kh * g.kw;
  const plane = g.h * g.w;
  for (let r = 0; r < count; r++) {
    const row = start + r;
    const b = Math.floor(row / (oh * ow));
    const p = row - b * oh * ow;
    const oy = Math.floor(p / ow);
    const ox = p - oy * ow;
    const base = r * cols;
    for (let ci = 0; ci < cg; ci++) {
      const xc = (b * g.c + grp * cg + ci) * plane;
      for (let i = 0; i < g.kh; i++) {
        const y = oy * g.strides[0] - g.pads[0] + i * g.dilations[0];
        for (let j = 0; j < g.kw; j++) {
          const xx = ox * g.strides[1] - g.pads[1] + j * g.dilations[1];
          out[base + (ci * g.kh + i) * g.kw + j] = y >= 0 && y < g.h && xx >= 0 && xx < g.w ? x[xc + y * g.w + xx]! : 0;
        }
      }
    }
  }
}
