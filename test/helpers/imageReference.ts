/**
 * The image-to-tensor conversion as src/data/image.ts first wrote it, a value at a time (a closure a
 * pixel and channel, the normalization chosen per value): the reference the table-driven, hoisted
 * version there is tested against, bit for bit (test/unit/data.test.ts).
 */
import { imageTensorDims, targetSize, type ImagePreset, type RgbaImage } from '../../src/data/image';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Bilinear resample of RGB (alpha dropped) with half-pixel centres, into float [0, 255]. */
function resampleRgb(img: RgbaImage, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h * 3);
  const sx = img.width / w;
  const sy = img.height / h;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number): number => img.data[(yy * img.width + xx) * 4 + c]!;
        const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
        const bottom = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
        out[(y * w + x) * 3 + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

/** An image as a [1, 3, H, W] (or [1, H, W, 3]) float32 tensor under `preset`: the straightforward loops. */
export function imageToTensorReference(img: RgbaImage, preset: ImagePreset): { data: Float32Array; dims: number[] } {
  const { width: W, height: H } = targetSize(preset, img.width, img.height);
  let rgb: Float32Array;
  // columns of image data from the left; those right of them are zeros after normalization (height-pad)
  let imageW = W;
  if (preset.resize === 'height-pad' && !(W === img.width && H === img.height)) {
    imageW = Math.min(W, Math.ceil((H * img.width) / img.height));
    const inner = resampleRgb(img, imageW, H);
    rgb = new Float32Array(W * H * 3);
    for (let y = 0; y < H; y++) rgb.set(inner.subarray(y * imageW * 3, (y + 1) * imageW * 3), y * W * 3);
  } else if (W === img.width && H === img.height) {
    rgb = new Float32Array(W * H * 3);
    for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = img.data[i * 4 + c]!;
  } else if (preset.resize === 'stretch') {
    rgb = resampleRgb(img, W, H);
  } else {
    // keep the aspect ratio, pad right and bottom with black
    const s = Math.min(W / img.width, H / img.height);
    const w = Math.max(1, Math.round(img.width * s));
    const h = Math.max(1, Math.round(img.height * s));
    const inner = resampleRgb(img, w, h);
    rgb = new Float32Array(W * H * 3);
    for (let y = 0; y < h; y++) rgb.set(inner.subarray(y * w * 3, (y + 1) * w * 3), y * W * 3);
  }
  const order = preset.channels === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const data = new Float32Array(W * H * 3);
  const norm = (v: number, c: number): number => {
    switch (preset.normalize) {
      case 'imagenet':
        return (v / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
      case 'unit':
        return v / 255;
      case 'signed':
        return v / 127.5 - 1;
      case 'raw255':
        return v;
    }
  };
  for (let i = 0; i < W * H; i++) {
    const padded = i % W >= imageW;
    for (let c = 0; c < 3; c++) {
      const v = padded ? 0 : norm(rgb[i * 3 + order[c]!]!, c);
      if (preset.layout === 'NCHW') data[c * W * H + i] = v;
      else data[i * 3 + c] = v;
    }
  }
  return { data, dims: imageTensorDims(img.width, img.height, preset) };
}
