/**
 * Calibration and evaluation data for the command line: files or directories of PNG images (decoded
 * in TypeScript, with the page's preprocessing presets), .npy / .npz tensors (one file, one sample;
 * shapes may differ between samples where the model's dims are dynamic) or ONNX test-data
 * input_N.pb files (a directory of them is one sample, as in onnx's test data layout).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { QuantscopeError } from '../core/errors';
import { fixedInputSpec, tensorInputs } from '../data/buildSamples';
import type { RecipeDataDescription } from '../core/recipe';
import type { IoInfo } from '../onnx';
import { decodePng, type ImagePreset } from '../data/image';
import type { InputSpec, SampleSpec } from '../data/samples';
import { readNpyFile, readNpzFile, readTensorProtoFile, type NamedTensor } from '../data/tensorFile';

const IMAGE = new Set(['.png']);
const TENSOR = new Set(['.npy', '.npz', '.pb']);
const UNDECODED = new Set(['.jpg', '.jpeg', '.webp']);

function readTensors(path: string): NamedTensor[] {
  const bytes: Uint8Array = readFileSync(path); // a Buffer is a Uint8Array: no copy
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return [readNpyFile(bytes, path)];
  if (ext === '.npz') return readNpzFile(bytes, path);
  return [readTensorProtoFile(bytes, path)];
}

/** Every data file under the paths given (directories listed in name order, not recursed into further). */
export function listDataFiles(paths: readonly string[]): string[][] {
  const samples: string[][] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new QuantscopeError('BAD_DATA', `${p}: no such file or directory`);
    }
    if (st.isFile()) {
      const ext = extname(p).toLowerCase();
      if (UNDECODED.has(ext))
        throw new QuantscopeError(
          'BAD_DATA',
          `${p}: ${ext.slice(1).toUpperCase()} images are decoded by the page, not the command line: convert them to PNG`,
        );
      if (!IMAGE.has(ext) && !TENSOR.has(ext))
        throw new QuantscopeError('BAD_DATA', `${p}: not a data file Quantscope reads (.png, .npy, .npz, input_N.pb)`);
      samples.push([p]);
      continue;
    }
    const entries = readdirSync(p).sort();
    const files = entries.map((e) => join(p, e)).filter((f) => statSync(f).isFile());
    const pbs = files.filter((f) => extname(f).toLowerCase() === '.pb');
    if (
      pbs.length &&
      pbs.length ===
        files.filter((f) => IMAGE.has(extname(f).toLowerCase()) || TENSOR.has(extname(f).toLowerCase())).length
    ) {
      samples.push(pbs); // a test-data directory: its input_N.pb files are one sample
      continue;
    }
    for (const f of files) {
      const ext = extname(f).toLowerCase();
      if (IMAGE.has(ext) || TENSOR.has(ext)) samples.push([f]);
      else if (UNDECODED.has(ext))
        throw new QuantscopeError(
          'BAD_DATA',
          `${f}: ${ext.slice(1).toUpperCase()} images are decoded by the page, not the command line: convert them to PNG`,
        );
    }
    // test_data_set_* subdirectories, as onnx's model zoo lays them out
    for (const d of entries.map((e) => join(p, e)).filter((f) => statSync(f).isDirectory())) {
      const inner = readdirSync(d)
        .filter((e) => e.toLowerCase().endsWith('.pb'))
        .sort()
        .map((e) => join(d, e));
      if (inner.length) samples.push(inner);
    }
  }
  if (samples.length === 0)
    throw new QuantscopeError('BAD_DATA', `${paths.join(', ')}: no usable data files (.png, .npy, .npz, input_N.pb)`);
  return samples;
}

export function loadSamples(
  paths: readonly string[],
  inputs: readonly IoInfo[],
  image: { name: string; preset: ImagePreset } | null,
  fixedInputs: Readonly<Record<string, number>> = {},
  /** Recurrent inputs fed back in streaming order: where the data gives none, they start at zeros. */
  chained: readonly string[] = [],
): SampleSpec[] {
  return listDataFiles(paths).map((files) => {
    const given: Record<string, InputSpec> = {};
    // a sample's tensors are matched to inputs together (one lone tensor feeds the first input)
    const tensors = files.filter((f) => !IMAGE.has(extname(f).toLowerCase())).flatMap((f) => readTensors(f));
    if (tensors.length) Object.assign(given, tensorInputs(tensors, inputs));
    for (const f of files.filter((f) => IMAGE.has(extname(f).toLowerCase()))) {
      if (!image)
        throw new QuantscopeError('BAD_DATA', `${f}: the model has no 3-channel image input, so images cannot feed it`);
      given[image.name] = {
        kind: 'image',
        name: basename(f),
        image: decodePng(new Uint8Array(readFileSync(f)), f),
        preset: image.preset,
      };
    }
    for (const input of inputs) {
      const v = fixedInputs[input.name];
      if (v !== undefined) given[input.name] = fixedInputSpec(input, v);
      if (!given[input.name] && chained.includes(input.name) && input.dtype === 'float')
        given[input.name] = {
          kind: 'generated',
          gen: {
            type: 'float32',
            dims: (input.shape ?? []).map((d) => (typeof d === 'number' ? d : 1)),
            dist: 'constant',
            a: 0,
            b: 0,
            seed: 0,
          },
        };
      if (!given[input.name])
        throw new QuantscopeError(
          'BAD_DATA',
          `${files.join(', ')}: nothing feeds input "${input.name}" (give a tensor for it, or --fix ${input.name}=VALUE)`,
        );
    }
    return { name: files.map((f) => basename(f)).join('+'), inputs: given };
  });
}

/** What a recipe records of the command line's calibration data: its kind, count and preprocessing. */
export function describeSamples(
  samples: readonly SampleSpec[],
  image: { name: string; preset: ImagePreset } | null,
): RecipeDataDescription {
  const images = samples.some((s) => Object.values(s.inputs).some((i) => i.kind === 'image'));
  return {
    kind: images ? 'images' : 'tensors',
    count: samples.length,
    preprocessing: images && image ? { ...image.preset } : null,
  };
}
