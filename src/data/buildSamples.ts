/**
 * From what the user loaded (images, tensor files or a request for generated data) to one sample
 * spec per calibration sample, checked against the model's inputs. Inputs the files do not cover get
 * generated values (normal data for float inputs, the user's constant for integer ones, such as
 * Silero VAD's `sr`), with symbolic dimensions taken from the data or asked of the user.
 */
import { QuantscopeError } from '../core/errors';
import type { IoInfo } from '../onnx';
import { fitToInput, testDataInputIndex, type NamedTensor } from './tensorFile';
import type { GeneratedInput, InputSpec, SampleSpec } from './samples';
import type { FeedType } from './feeds';
import type { ImagePreset, RgbaImage } from './image';

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

/**
 * The name a dynamic dimension's value goes by: its symbolic name, shared by every axis that has it
 * (ONNX dim_param: the same name is the same size); an axis with no name ('?': neither dim_value nor
 * dim_param) goes by its input and axis, `input[1]`, since two unnamed axes need not be equal
 * (Silero VAD v6's input [?, ?] is [batch, 576]).
 */
export function dimKey(input: IoInfo, d: string, axis: number): string {
  return d === '?' ? `${input.name}[${axis}]` : d;
}

/** The symbolic dimensions among the inputs that generated data would need values for. */
export function symbolicDims(inputs: readonly IoInfo[]): string[] {
  const out = new Set<string>();
  for (const i of inputs) (i.shape ?? []).forEach((d, axis) => typeof d === 'string' && out.add(dimKey(i, d, axis)));
  return [...out];
}

/** A value the user gave a dynamic dimension, when it is one a tensor can have (a whole number, at least 1). */
function givenDim(dimValues: Readonly<Record<string, number>>, d: string): number | undefined {
  const v = dimValues[d];
  return v !== undefined && Number.isInteger(v) && v >= 1 ? v : undefined;
}

/**
 * The dynamic dimensions generated data still needs a value for: those past an input's first axis (a
 * leading one is the batch, 1) with no usable value. What resolveDims would refuse, named up front.
 */
export function dimsNeedingValues(inputs: readonly IoInfo[], dimValues: Readonly<Record<string, number>>): string[] {
  const out = new Set<string>();
  for (const i of inputs)
    (i.shape ?? []).forEach((d, axis) => {
      if (typeof d === 'string' && axis > 0 && givenDim(dimValues, dimKey(i, d, axis)) === undefined)
        out.add(dimKey(i, d, axis));
    });
  return [...out];
}

function resolveDims(input: IoInfo, dimValues: Readonly<Record<string, number>>): number[] {
  if (!input.shape)
    throw new QuantscopeError('BAD_DATA', `input "${input.name}" has no declared shape: give calibration data for it`);
  return input.shape.map((d, axis) => {
    if (typeof d === 'number') return d;
    const v = givenDim(dimValues, dimKey(input, d, axis));
    if (v !== undefined) return v;
    if (axis === 0) return 1; // a leading symbolic dimension is the batch: one sample at a time
    throw new QuantscopeError(
      'BAD_DATA',
      `input "${input.name}" has a dynamic dimension "${dimKey(input, d, axis)}" (axis ${axis}): give it a value to generate data`,
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

/**
 * The model input a tensor file feeds (the page and the command line both ask this): the input the
 * tensor is named for (.npz arrays, a TensorProto's name), else input N for onnx's input_N.pb, else
 * the first input when the sample is this one tensor. A tensor that fits none is refused by name.
 */
export function inputForTensor(t: NamedTensor, inputs: readonly IoInfo[], tensorsInSample: number): IoInfo {
  const byName = t.name !== null ? inputs.find((x) => x.name === t.name) : undefined;
  const index = testDataInputIndex(t.source);
  const input =
    byName ??
    (index !== null ? inputs[index] : undefined) ??
    (tensorsInSample === 1 && inputs.length >= 1 ? inputs[0] : undefined);
  if (!input)
    throw new QuantscopeError(
      'BAD_DATA',
      `${t.source}: no model input named "${t.name ?? ''}" (inputs: ${inputs.map((x) => x.name).join(', ')})`,
    );
  return input;
}

/**
 * One sample's tensors, each fitted to the input it feeds (dtype and shape checked: fitToInput).
 * `copy` gives each its own buffer (the page transfers them to the worker and keeps its originals).
 */
export function tensorInputs(
  tensors: readonly NamedTensor[],
  inputs: readonly IoInfo[],
  copy = false,
): Record<string, InputSpec> {
  const given: Record<string, InputSpec> = {};
  for (const t of tensors) {
    const input = inputForTensor(t, inputs, tensors.length);
    const fitted = fitToInput(t, input);
    given[input.name] = { kind: 'tensor', tensor: copy ? { ...fitted, data: fitted.data.slice() } : fitted };
  }
  return given;
}

/** The constant an input fixed at preparation is always fed (the prepared graph assumed it). */
export function fixedInputSpec(
  input: IoInfo,
  value: number,
  dimValues: Readonly<Record<string, number>> = {},
): InputSpec {
  const type = FEED_TYPES[input.dtype];
  if (!type)
    throw new QuantscopeError('UNSUPPORTED_DTYPE', `input "${input.name}" is ${input.dtype}: it cannot be fixed`);
  return {
    kind: 'generated',
    gen: { type, dims: resolveDims(input, dimValues), dist: 'constant', a: value, b: 0, seed: 0 },
  };
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
      if (fixed !== undefined) out[input.name] = fixedInputSpec(input, fixed, sel.dimValues);
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
      return sel.tensorSamples.map((s, i) => ({
        name: s.name,
        inputs: fill(tensorInputs(s.tensors, inputs, true), i),
      }));
    case 'generated':
      if (sel.generatedCount < 1) throw new QuantscopeError('BAD_DATA', 'ask for at least one generated sample');
      return Array.from({ length: sel.generatedCount }, (_, i) => ({
        name: `generated-${i + 1}`,
        inputs: fill({}, i),
      }));
  }
}
