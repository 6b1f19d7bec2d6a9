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

export const nodeOrt: OrtModule = {
  get InferenceSession() {
    return load().InferenceSession as unknown as OrtModule['InferenceSession'];
  },
  get Tensor() {
    return load().Tensor as unknown as OrtModule['Tensor'];
  },
};

/** A CPU session on onnxruntime-node, its warnings silenced (severity 3: errors only). */
export function createNodeSession(
  model: Uint8Array,
  options: InferenceSession.SessionOptions = {},
): Promise<InferenceSession> {
  return nodeOrt.InferenceSession.create(model, { logSeverityLevel: 3, ...options });
}

/**
 * A CPU session from a model file: onnxruntime-node reads the external data files the .onnx names
 * from its folder itself (never through this process's JavaScript heap).
 */
export function createNodeSessionFromPath(
  path: string,
  options: InferenceSession.SessionOptions = {},
): Promise<InferenceSession> {
  return nodeOrt.InferenceSession.create(path as unknown as Uint8Array, { logSeverityLevel: 3, ...options });
}
