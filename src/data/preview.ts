/** What the chosen preprocessing makes of the first image: shape, value range and a thumbnail. */
import { imageToTensor, type ImagePreset, type RgbaImage } from './image';

export interface TensorPreview {
  readonly dims: readonly number[];
  readonly min: number;
  readonly max: number;
  /** The tensor mapped back to RGB for display (each channel stretched over its own range). */
  readonly thumbnail: RgbaImage;
}

export function previewImageTensor(image: RgbaImage, preset: ImagePreset): TensorPreview {
  const t = imageToTensor(image, preset);
  const nchw = preset.layout === 'NCHW';
  const [h, w] = nchw ? [t.dims[2]!, t.dims[3]!] : [t.dims[1]!, t.dims[2]!];
  let min = Infinity;
  let max = -Infinity;
  for (const v of t.data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const rgba = new Uint8Array(w * h * 4);
  const order = preset.channels === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const span = max - min || 1;
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) {
      const v = nchw ? t.data[c * w * h + i]! : t.data[i * 3 + c]!;
      rgba[i * 4 + order[c]!] = Math.round((255 * (v - min)) / span);
    }
    rgba[i * 4 + 3] = 255;
  }
  return { dims: t.dims, min, max, thumbnail: { width: w, height: h, data: rgba } };
}
