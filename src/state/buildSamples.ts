/**
 * From what the user loaded (images, tensor files or a request for generated data) to one sample
 * spec per calibration sample, checked against the model's inputs. Inputs the files do not cover get
 * generated values (normal data for float inputs, the user's constant for integer ones, such as
 * Silero VAD's `sr`), with symbolic dimensions taken from the data or asked of the user.
 */
import { QuantscopeError } from '../core/errors';
import type { IoInfo } from '../onnx';
import { fitToInput, testDataInputIndex, type NamedTensor } from '../data/tensorFile';
import type { GeneratedInput, InputSpec, SampleSpec } from '../data/samples';
import type { FeedType } from '../runtime/ort';
import type { ImagePreset, RgbaImage } from '../data/image';

export interface GeneratedSettings {
  readonly dist: GeneratedInput['dist'];
  readonly a: number;
  readonly b: number;
}

export interface DataSelection {
  readonly dataKind: 'none' | 'images' | 'tensors' | 'generated';
  readonly images: readonly { name: string; image: RgbaImage }[];
  readonly tensorSamples: readonly { name: string; tensors: readonly NamedTensor[] }[];
  readonly generatedCount: number;
  readonly generated: Readonly<Record<string, GeneratedSettings>>;
  readonly dimValues: Readonly<Record<string, number>>;
}

const FEED_TYPES: Record<string, FeedType> = {
  float: 'float32',
  int64: 'int64',
  int32: 'int32',
  uint8: 'uint8',
  int8: 'int8',
  bool: 'bool',
};

export function defaultGenerated(input: IoInfo): GeneratedSettings {
  return input.dtype === 'float' ? { dist: 'normal', a: 0, b: 1 } : { dist: 'constant', a: 0, b: 0 };
}

/** The symbolic dimensions among the inputs that generated data would need values for. */
export function symbolicDims(inputs: readonly IoInfo[]): string[] {
  const out = new Set<string>();
  for (const i of inputs) for (const d of i.shape ?? []) if (typeof d === 'string') out.add(d);
  return [...out];
}

function resolveDims(input: IoInfo, dimValues: Readonly<Record<string, number>>): number[] {
  if (!input.shape)
    throw new QuantscopeError('BAD_DATA', `input "${input.name}" has no declared shape: give calibration data for it`);
  return input.shape.map((d, axis) => {
    if (typeof d === 'number') return d;
    const v = dimValues[d];
    if (v !== undefined) return v;
    if (axis === 0) return 1; // a leading symbolic dimension is the batch: one sample at a time
    throw new QuantscopeError(
      'BAD_DATA',
      `input "${input.name}" has a dynamic dimension "${d}" (axis ${axis}): give it a value to generate data`,
    );
  });
}

function generatedSpec(input: IoInfo, sel: DataSelection, seed: number): InputSpec {
  const type = FEED_TYPES[input.dtype];
  if (!type)
    throw new QuantscopeError(
      'UNSUPPORTED_DTYPE',
      `input "${input.name}" is ${input.dtype}: Quantscope cannot generate data for it`,
    );
  const g = sel.generated[input.name] ?? defaultGenerated(input);
  return {
    kind: 'generated',
    gen: { type, dims: resolveDims(input, sel.dimValues), dist: g.dist, a: g.a, b: g.b, seed },
  };
}

function copyTensorSpec(t: ReturnType<typeof fitToInput>): InputSpec {
  return { kind: 'tensor', tensor: { ...t, data: t.data.slice() } };
}

export function buildSamples(
  inputs: readonly IoInfo[],
  imageInput: { name: string; preset: ImagePreset } | null,
  sel: DataSelection,
  presetOverride: ImagePreset | null,
  fixedInputs: Readonly<Record<string, number>> = {},
): SampleSpec[] {
  const fill = (given: Record<string, InputSpec>, i: number): Record<string, InputSpec> => {
    const out = { ...given };
    inputs.forEach((input, j) => {
      const fixed = fixedInputs[input.name];
      // an input fixed at preparation always gets its value: the prepared graph assumed it
      if (fixed !== undefined)
        out[input.name] = generatedSpec(
          input,
          { ...sel, generated: { ...sel.generated, [input.name]: { dist: 'constant', a: fixed, b: 0 } } },
          0,
        );
      else if (!out[input.name]) out[input.name] = generatedSpec(input, sel, 1000 + i * inputs.length + j);
    });
    return out;
  };
  switch (sel.dataKind) {
    case 'none':
      throw new QuantscopeError(
        'BAD_DATA',
        'no calibration data: load images, .npy/.npz or input_N.pb files, or generate data',
      );
    case 'images': {
      if (!imageInput)
        throw new QuantscopeError(
          'BAD_DATA',
          'the model has no 3-channel image input: images cannot feed it; load tensors or generate data',
        );
      const preset = presetOverride ?? imageInput.preset;
      return sel.images.map((im, i) => ({
        name: im.name,
        inputs: fill(
          {
            [imageInput.name]: {
              kind: 'image',
              name: im.name,
              image: { ...im.image, data: im.image.data.slice() },
              preset,
            },
          },
          i,
        ),
      }));
    }
    case 'tensors':
      return sel.tensorSamples.map((s, i) => {
        const given: Record<string, InputSpec> = {};
        s.tensors.forEach((t) => {
          const byName = t.name !== null ? inputs.find((x) => x.name === t.name) : undefined;
          const index = testDataInputIndex(t.source);
          const input =
            byName ??
            (index !== null ? inputs[index] : undefined) ??
            (s.tensors.length === 1 && inputs.length >= 1 ? inputs[0] : undefined);
          if (!input)
            throw new QuantscopeError(
              'BAD_DATA',
              `${t.source}: no model input named "${t.name ?? ''}" (inputs: ${inputs.map((x) => x.name).join(', ')})`,
            );
          given[input.name] = copyTensorSpec(fitToInput(t, input));
        });
        return { name: s.name, inputs: fill(given, i) };
      });
    case 'generated':
      if (sel.generatedCount < 1) throw new QuantscopeError('BAD_DATA', 'ask for at least one generated sample');
      return Array.from({ length: sel.generatedCount }, (_, i) => ({
        name: `generated-${i + 1}`,
        inputs: fill({}, i),
      }));
  }
}
