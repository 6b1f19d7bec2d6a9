/**
 * Where a model behind a URL lives: a URL naming an `.onnx` file is that file; any other URL is read
 * as a model repository laid out as transformers.js loads it (Hugging Face's `Xenova/...` and
 * `onnx-community/...` repositories): `onnx/<name><suffix>.onnx`, where the suffix names the variant
 * (transformers.js's dtype suffixes: '' fp32, `_fp16`, `_quantized` q8, `_int8`, `_uint8`, `_q4`,
 * `_q4f16`, `_bnb4`), and a model's weights over protobuf's 2 GB sit beside it in `<file>.onnx_data`
 * (then `_data_1`, `_data_2` ... for more chunks). Pure: no network here (state/fetchModel asks).
 */
import { QuantscopeError } from '../core/errors';

export interface ModelVariant {
  /** The file's name, e.g. `model_fp16.onnx`. */
  readonly file: string;
  /** The variant in words, e.g. `decoder_model_merged · float16`. */
  readonly label: string;
  readonly url: string;
}

export type ModelLocation =
  | { readonly kind: 'file'; readonly url: string; readonly file: string }
  | { readonly kind: 'repository'; readonly base: string; readonly candidates: readonly ModelVariant[] };

/** transformers.js's dtype suffixes, in the order the page offers them. */
export const TRANSFORMERS_JS_SUFFIXES: readonly (readonly [suffix: string, label: string])[] = [
  ['', 'float32'],
  ['_fp16', 'float16'],
  ['_quantized', 'int8 (q8)'],
  ['_int8', 'int8'],
  ['_uint8', 'uint8'],
  ['_q4', 'q4 (MatMulNBits)'],
  ['_q4f16', 'q4f16'],
  ['_bnb4', 'bnb4'],
];

/** The model names transformers.js's pipelines load from a repository's `onnx/` folder. */
export const TRANSFORMERS_JS_MODEL_NAMES = ['model', 'encoder_model', 'decoder_model_merged', 'decoder_model'];

/** The last path segment of a URL, decoded (`.../onnx/model.onnx?x=1` → `model.onnx`). */
export function fileNameOfUrl(url: string): string {
  const path = new URL(url).pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

/**
 * What the user typed (or `?model=` held), resolved against the page's address: an `.onnx` file, or a
 * repository whose `onnx/` folder holds the candidates (a URL already ending in `onnx/` is that folder).
 */
export function locateModel(input: string, pageHref: string): ModelLocation {
  const text = input.trim();
  let url: URL;
  try {
    url = new URL(text, pageHref);
  } catch {
    throw new QuantscopeError('BAD_URL', `"${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new QuantscopeError('BAD_URL', `${url.href}: only http and https addresses can be fetched`);
  }
  if (/\.onnx$/i.test(url.pathname)) return { kind: 'file', url: url.href, file: fileNameOfUrl(url.href) };
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const folder = new URL(/\/onnx\/$/.test(path) ? path : `${path}onnx/`, url.origin);
  folder.search = url.search;
  const candidates = TRANSFORMERS_JS_MODEL_NAMES.flatMap((name) =>
    TRANSFORMERS_JS_SUFFIXES.map(([suffix, label]) => {
      const file = `${name}${suffix}.onnx`;
      const u = new URL(file, folder);
      u.search = url.search;
      return { file, label: name === 'model' ? label : `${name} · ${label}`, url: u.href };
    }),
  );
  return { kind: 'repository', base: folder.href, candidates };
}

/**
 * The external data files transformers.js's layout puts beside a model, in the order to try them:
 * `<file>_data`, then `<file>_data_1`, `_data_2` ... (`count` names in all).
 */
export function externalDataUrls(modelUrl: string, count: number): string[] {
  const u = new URL(modelUrl);
  return Array.from({ length: count }, (_, i) => {
    const d = new URL(u.href);
    d.pathname = `${u.pathname}_data${i === 0 ? '' : `_${i}`}`;
    return d.href;
  });
}
