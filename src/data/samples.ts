/**
 * Calibration samples as they travel to the worker: one spec per sample, one input spec per model
 * input, turned into tensors only when that sample runs (so one sample's tensors are in memory at a time).
 */
import { QuantscopeError } from '../core/errors';
import { mulberry32, normalSampler } from '../core/random';
import type { Feeds, FeedData, FeedTensor, FeedType } from './feeds';
import { decodePng, imageTensorDims, imageToTensor, pngSize, type ImagePreset, type RgbaImage } from './image';

export type Distribution = 'normal' | 'uniform' | 'constant';

/** Generated data: normal(a = mean, b = std), uniform over [a, b), or the constant a. Integer types round. */
export interface GeneratedInput {
  readonly type: FeedType;
  readonly dims: readonly number[];
  readonly dist: Distribution;
  readonly a: number;
  readonly b: number;
  readonly seed: number;
}

export type InputSpec =
  | { readonly kind: 'tensor'; readonly tensor: FeedTensor }
  | { readonly kind: 'image'; readonly name: string; readonly image: RgbaImage; readonly preset: ImagePreset }
  | { readonly kind: 'png'; readonly name: string; readonly bytes: ArrayBuffer; readonly preset: ImagePreset }
  | { readonly kind: 'generated'; readonly gen: GeneratedInput };

export interface SampleSpec {
  readonly name: string;
  readonly inputs: Readonly<Record<string, InputSpec>>;
}

export function generateTensor(g: GeneratedInput): FeedTensor {
  const n = g.dims.reduce((a, b) => a * b, 1);
  const rand = mulberry32(g.seed);
  const normal = normalSampler(rand);
  const draw = (): number =>
    g.dist === 'constant' ? g.a : g.dist === 'uniform' ? g.a + (g.b - g.a) * rand() : g.a + g.b * normal();
  let data: FeedData;
  switch (g.type) {
    case 'float32':
      data = Float32Array.from({ length: n }, draw);
      break;
    case 'int64':
      data = BigInt64Array.from({ length: n }, () => BigInt(Math.floor(draw())));
      break;
    case 'int32':
      data = Int32Array.from({ length: n }, () => Math.floor(draw()));
      break;
    case 'int8':
      data = Int8Array.from({ length: n }, () => Math.floor(draw()));
      break;
    case 'int16':
      data = Int16Array.from({ length: n }, () => Math.floor(draw()));
      break;
    case 'uint16':
      data = Uint16Array.from({ length: n }, () => Math.floor(draw()));
      break;
    case 'uint8':
    case 'bool':
      data = Uint8Array.from({ length: n }, () => Math.floor(draw()));
      break;
  }
  return { type: g.type, data, dims: g.dims };
}

export function materializeInput(spec: InputSpec): FeedTensor {
  switch (spec.kind) {
    case 'tensor':
      return spec.tensor;
    case 'image':
      return imageToTensor(spec.image, spec.preset);
    case 'png':
      return imageToTensor(decodePng(new Uint8Array(spec.bytes), spec.name), spec.preset);
    case 'generated':
      return generateTensor(spec.gen);
  }
}

/** Samples as a calibration or evaluation source: each decoded when asked for (one in memory at a time), named by its file. */
export function sampleSource(specs: readonly SampleSpec[]): {
  readonly count: number;
  feeds(i: number): Promise<Feeds>;
  name(i: number): string;
} {
  return { count: specs.length, feeds: async (i) => materializeSample(specs[i]!), name: (i) => specs[i]!.name };
}

export function materializeSample(spec: SampleSpec): Feeds {
  const out: Record<string, FeedTensor> = {};
  for (const [name, input] of Object.entries(spec.inputs)) {
    const t = materializeInput(input);
    if (t.data instanceof Float32Array) {
      for (let i = 0; i < t.data.length; i++) {
        if (!Number.isFinite(t.data[i]!))
          throw new QuantscopeError('NON_FINITE', `sample "${spec.name}": input "${name}" contains NaN or Infinity`);
      }
    }
    out[name] = t;
  }
  return out;
}

/**
 * Each input's dims for a sample, without building its tensors where an image's size decides them
 * (the page plans calibration memory from them before the worker starts: decoding and normalising a
 * document image on the page's thread cost over 100 ms). Otherwise, or for a PNG whose header does not
 * read, exactly what materializeSample gives, errors included.
 */
export function sampleDims(spec: SampleSpec): Record<string, readonly number[]> {
  const out: Record<string, readonly number[]> = {};
  for (const [name, input] of Object.entries(spec.inputs)) {
    const size =
      input.kind === 'image' ? input.image : input.kind === 'png' ? pngSize(new Uint8Array(input.bytes)) : null;
    if (!size || (input.kind !== 'image' && input.kind !== 'png'))
      return Object.fromEntries(Object.entries(materializeSample(spec)).map(([k, t]) => [k, t.dims]));
    out[name] = imageTensorDims(size.width, size.height, input.preset);
  }
  return out;
}

/** Buffers to transfer with a request (copies are made by the caller where the page keeps its own). */
export function sampleBuffers(specs: readonly SampleSpec[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const s of specs) {
    for (const i of Object.values(s.inputs)) {
      if (i.kind === 'tensor') out.push(i.tensor.data.buffer as ArrayBuffer);
      else if (i.kind === 'image') out.push(i.image.data.buffer as ArrayBuffer);
      else if (i.kind === 'png') out.push(i.bytes);
    }
  }
  return [...new Set(out)];
}
