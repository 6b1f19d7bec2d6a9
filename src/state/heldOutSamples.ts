/**
 * The held-out samples the debugger, sensitivity and tune run on, and the task metric the page knows
 * for the built-in OCR samples.
 */
import { QuantscopeError } from '../core/errors';
import { guardSplit } from '../core/guard';
import { buildSamples, type DataSelection } from '../data/buildSamples';
import type { SampleSpec } from '../data/samples';
import { decodeImage, isImageFile } from '../runtime/decodeImage';
import type { TaskSpec } from '../runtime/sensitivityJob';
import { fetchSampleFiles, heldOutNames } from './sample';
import type { AppState } from './types';

/**
 * Held-out samples: the built-in samples' own held-out images (never calibrated on), else the last
 * part of the calibration data, said so.
 */
export async function heldOutSamples(
  state: AppState,
  max: number,
  baseUrl: string | undefined,
): Promise<{ samples: SampleSpec[]; source: string }> {
  const model = state.model!;
  if (model.ocr && model.isSample && baseUrl !== undefined) {
    try {
      const names = heldOutNames(model.ocr).slice(0, max);
      const files = await fetchSampleFiles(baseUrl, model.ocr, names);
      const images = await Promise.all(
        files
          .filter((f) => isImageFile(f.name))
          .map(async (f) => ({ name: f.name, image: await decodeImage(f.bytes, f.name) })),
      );
      const sel: DataSelection = { ...state, dataKind: 'images', images };
      const samples = buildSamples(
        model.summary.inputs,
        model.imageInput,
        sel,
        state.presetOverride,
        model.fixedInputs,
      );
      if (samples.length)
        return {
          samples,
          source: `${samples.length} held-out ${model.ocr === 'rec' ? 'text line' : 'document'}${samples.length === 1 ? '' : 's'} of the sample (never calibrated on)`,
        };
    } catch {
      // fall back to a split of the calibration data below
    }
  }
  const all = buildSamples(model.summary.inputs, model.imageInput, state, state.presetOverride, model.fixedInputs);
  if (!all.length) throw new QuantscopeError('NO_STATISTICS', 'no samples: choose calibration data first');
  const split = guardSplit(all.length);
  const chosen = split.indices.slice(-max).map((i) => all[i]!);
  return {
    samples: chosen,
    source:
      chosen.length === split.indices.length
        ? split.source
        : `the calibration data's last ${chosen.length} of ${all.length} samples, no held-out samples given (calibrated on too, so the figures are optimistic)`,
  };
}

/**
 * How many held-out samples heldOutSamples(state, max) gives in the page, counted without building
 * them: what the debugger's sample choice offers (never a count it cannot run on).
 */
export function heldOutCount(state: AppState, max: number): number {
  const model = state.model;
  if (model?.ocr && model.isSample) return Math.min(max, heldOutNames(model.ocr).length);
  const n =
    state.dataKind === 'images'
      ? state.images.length
      : state.dataKind === 'tensors'
        ? state.tensorSamples.length
        : state.dataKind === 'generated'
          ? state.generatedCount
          : 0;
  return Math.min(max, guardSplit(n).indices.length);
}

/**
 * The task metric where the page knows the task: the built-in text lines' own text (character
 * accuracy), or the built-in documents' boxes (box F1 against the float model's). Null otherwise, or
 * when the dictionary or labels cannot be fetched.
 */
export async function ocrTask(
  state: AppState,
  samples: readonly SampleSpec[],
  baseUrl: string | undefined,
): Promise<TaskSpec | null> {
  const model = state.model!;
  if (!model.isSample || !model.ocr || baseUrl === undefined) return null;
  if (model.ocr === 'det') return { kind: 'ocr-det' };
  try {
    const text = async (url: string) => {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return r.text();
    };
    const [dictionary, labels] = await Promise.all([
      text(`${baseUrl}samples/models/ppocr_keys_v1.txt`),
      text(`${baseUrl}samples/rec/labels.json`).then((t) => JSON.parse(t) as Record<string, string>),
    ]);
    const texts = samples.map((s) => labels[s.name]);
    return texts.some((t) => t !== undefined) ? { kind: 'ocr-rec', dictionary, texts } : null;
  } catch {
    return null;
  }
}
