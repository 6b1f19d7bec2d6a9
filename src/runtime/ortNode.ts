/**
 * onnxruntime-node for the command line (and Node tests): the same OrtModule slice the worker gets
 * from onnxruntime-web, so calibration and evaluation run through the same runtime code.
 * Loaded on first use, not at import: commands that run no model (range, inspect) start without
 * its native binding (~0.1-0.2 s and 13 MiB of a `quantscope range` process).
 */
import { createRequire } from 'node:module';
import type { InferenceSession } from 'onnxruntime-common';
import type * as OrtNodeModule from 'onnxruntime-node';
import type { OrtModule } from './ort';

type NodeOrt = typeof OrtNodeModule;
let loaded: NodeOrt | undefined;
// onnxruntime-node is CommonJS: require gives the very module object `import` does (one registry of backends)
const load = (): NodeOrt => (loaded ??= createRequire(import.meta.url)('onnxruntime-node') as NodeOrt);

/**
 * Every session logs at severity 4 (fatal only): a failure onnxruntime-node logs is also thrown, and
 * said once in the command's own words (runtime/sampleRun.ts); its log line repeated it first, in red,
 * with a build path and a C++ signature. Its warnings (a deprecated attribute) are not the user's to act on.
 */
const quietSessions: OrtModule['InferenceSession'] = {
  create: (model, options = {}) =>
    (load().InferenceSession as unknown as OrtModule['InferenceSession']).create(model, {
      ...options,
      logSeverityLevel: 4,
    }),
};

export const nodeOrt: OrtModule = {
  InferenceSession: quietSessions,
  get Tensor() {
    return load().Tensor as unknown as OrtModule['Tensor'];
  },
};

/** A CPU session on onnxruntime-node, logging nothing but fatal errors (quietSessions). */
export function createNodeSession(
  model: Uint8Array,
  options: InferenceSession.SessionOptions = {},
): Promise<InferenceSession> {
  return nodeOrt.InferenceSession.create(model, options);
}

/**
 * A CPU session from a model file: onnxruntime-node reads the external data files the .onnx names
 * from its folder itself (never through this process's JavaScript heap).
 */
export function createNodeSessionFromPath(
  path: string,
  options: InferenceSession.SessionOptions = {},
): Promise<InferenceSession> {
  return nodeOrt.InferenceSession.create(path as unknown as Uint8Array, options);
}
