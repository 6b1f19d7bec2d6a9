/**
 * The calibration model: the prepared float model with every tensor to calibrate added as a graph
 * output, so one inference run returns them all. No type is needed on the added outputs: the
 * runtime infers it (verified with onnxruntime 1.30, web and node).
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { makeValueInfo, type ModelProto } from './proto';

export function withExtraOutputs(model: ModelProto, tensors: readonly string[]): ModelProto {
  const out = clone(ModelProtoSchema, model);
  const existing = new Set(out.graph!.output.map((o) => o.name));
  for (const t of tensors) if (!existing.has(t)) out.graph!.output.push(makeValueInfo(t));
  return out;
}
