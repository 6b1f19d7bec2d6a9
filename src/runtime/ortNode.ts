/**
 * onnxruntime-node for the command line (and Node tests): the same OrtModule slice the worker gets
 * from onnxruntime-web, so calibration and evaluation run through the same runtime code.
 */
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-common';
import type { OrtModule } from './ort';

export const nodeOrt = ort as unknown as OrtModule;

/** A CPU session on onnxruntime-node, its warnings silenced (severity 3: errors only). */
export function createNodeSession(model: Uint8Array): Promise<InferenceSession> {
  return nodeOrt.InferenceSession.create(model, { logSeverityLevel: 3 });
}
