/**
 * Sessions for the models a job builds from a float model that may keep its weights in external data
 * files (the debugger's static QDQ file, sensitivity's and Tune's switchboards): one way to open them
 * in the page's worker and in Node, so a job is written once.
 *
 * In the worker the user's data files arrive as Blobs by the locations the .onnx records (the same
 * `externalData` list calibration and the guard give onnxruntime-web: runtime/modelJob.ts
 * sessionExternalData). The float model decoded there gets them as lazy sources (onnx/externalData.ts
 * attachExternalData over blobSource), so a form reads a weight only when it quantizes it; a model built
 * from it keeps every tensor it did not rewrite as the same external reference, and only the
 * quantized weights are inline. Its session is given the encoded model without our private source
 * key (onnxruntime refuses unknown keys: onnx/codec.ts encodeModelForRuntime) plus the same data files,
 * which onnxruntime-web reads itself: the whole model is never copied into one ArrayBuffer here.
 */
import type { InferenceSession } from 'onnxruntime-common';
import {
  attachExternalData,
  blobSource,
  decodeModel,
  encodeModel,
  encodeModelForRuntime,
  externalDataFiles,
  type ModelProto,
} from '../onnx';
import type { OrtModule } from './ort';
import type { ExternalDataFile } from './protocol';

/** Open a session for a model (a float model, or one built from it), with its data files if any. */
export type ModelSessionOpener = (
  model: ModelProto,
  options?: InferenceSession.SessionOptions,
) => Promise<InferenceSession>;

/** The plain opener: the model's bytes, every tensor inline. */
export function bytesSessionOpener(ort: OrtModule): ModelSessionOpener {
  return (model, options = {}) => ort.InferenceSession.create(encodeModel(model), options);
}

/**
 * onnxruntime-web's opener for models whose external tensors are in `externalData` (by location):
 * without data files, the plain opener.
 */
export function webSessionOpener(ort: OrtModule, externalData?: readonly ExternalDataFile[]): ModelSessionOpener {
  if (!externalData?.length) return bytesSessionOpener(ort);
  const files = [...externalData];
  return (model, options = {}) =>
    ort.InferenceSession.create(encodeModelForRuntime(model), { ...options, externalData: files });
}

/**
 * Decode a float model sent to a job: with its data files, each external tensor becomes a lazy slice
 * of its Blob (a missing or short file is named); without, a model keeping tensors outside is refused
 * by name (EXTERNAL_DATA), as before.
 */
export function decodeJobModel(
  bytes: Uint8Array,
  name: string,
  externalData: readonly ExternalDataFile[] | undefined,
): ModelProto {
  if (!externalData?.length) return decodeModel(bytes, name);
  const model = decodeModel(bytes, name, undefined, 'keep');
  attachExternalData(
    model,
    name,
    externalData.map((f) => blobSource(f.data, f.path)),
  );
  return model;
}

/**
 * onnxruntime-web with a model's data files: every session the wrapped module opens gets them as its
 * `externalData` (matched by the locations a model records; one without external tensors ignores
 * them). For jobs that open sessions from bytes deep inside shared code (sensitivity's and Tune's
 * switchboard, Tune's file check): the bytes must be encoded without our private source key
 * (encodeModelForRuntime, the same as encodeModel for a model in one file). Without data files, `ort`.
 */
export function ortWithExternalData(ort: OrtModule, externalData?: readonly ExternalDataFile[]): OrtModule {
  if (!externalData?.length) return ort;
  const files = [...externalData];
  return {
    InferenceSession: {
      create: (model, options = {}) => ort.InferenceSession.create(model, { ...options, externalData: files }),
    },
    Tensor: ort.Tensor,
  };
}

/** Whether a model keeps any tensor in an external data file. */
export function hasExternalData(model: ModelProto): boolean {
  return externalDataFiles(model).length > 0;
}
