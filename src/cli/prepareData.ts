/**
 * A model prepared for the data it is given: the recurrent pairs to chain (--chain), the samples
 * loaded, and scalar inputs that every sample gives one value and an If branches on fixed
 * automatically (Silero VAD's sr), said on stderr. Shared by calibrate and quantize.
 */
import { basename } from 'node:path';
import type { QuantConfig } from '../core/config';
import { fixableInputs, planQuantization, prepareModel, summarizeModel, type ModelProto } from '../onnx';
import { autoFixNote, constantScalarInputs } from '../data/autoFix';
import type { SampleSpec } from '../data/samples';
import type { Chain } from '../runtime/recurrent';
import { loadSamples } from './data';
import { imageInput } from './files';
import { chainFor } from './guard';

export interface PreparedWithData {
  readonly prepared: ModelProto;
  readonly fixed: Record<string, number>;
  readonly samples: SampleSpec[] | null;
  readonly chain: Chain[];
  /** What preparation did (the recipe records it). */
  readonly log: readonly string[];
  /** Load more samples (held-out) for the same prepared model. */
  load(paths: string[]): SampleSpec[];
}

export function prepareWithData(
  model: ModelProto,
  path: string,
  config: QuantConfig,
  userFixed: Readonly<Record<string, number>>,
  dataPaths: string[] | undefined,
  opts: { readonly chain: boolean; readonly autoFix: boolean },
): PreparedWithData {
  let fixed: Record<string, number> = { ...userFixed };
  let preparation = prepareModel(model, { fixedInputs: fixed });
  let prepared = preparation.model;
  const summaryOf = (p: ModelProto) => summarizeModel(model, p, planQuantization(p, config), basename(path), 0, []);
  const chain = chainFor(summaryOf(prepared), opts.chain, (line) => console.error(line));
  const chained = chain.map((c) => c.input);
  const load = (paths: string[]) =>
    loadSamples(paths, summaryOf(prepared).inputs, imageInput(prepared), fixed, chained);
  let samples = dataPaths ? load(dataPaths) : null;
  if (samples && opts.autoFix) {
    const auto = constantScalarInputs(samples, fixableInputs(model), fixed);
    if (Object.keys(auto).length) {
      fixed = { ...fixed, ...auto };
      preparation = prepareModel(model, { fixedInputs: fixed });
      prepared = preparation.model;
      console.error(`note: ${autoFixNote(auto)}`);
      samples = load(dataPaths!);
    }
  }
  return { prepared, fixed, samples, chain, load, log: preparation.log };
}
