/**
 * onnxruntime-node sessions for models that may keep weights in external data files. A model without
 * lazy tensors is handed over as bytes; one with them gets a small header .onnx written into its data
 * files' folder that references those files where they are (onnx/writeModel.ts referencingHeader),
 * and onnxruntime reads the weights itself: a 2.5 GB model never passes through this process's heap.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import { QuantscopeError } from '../core/errors';
import { encodeModel, graphTensors, isExternal, lazySlice, referencingHeader, type ModelProto } from '../onnx';
import { createNodeSession, createNodeSessionFromPath } from './ortNode';

let headers = 0;

export async function createNodeSessionForModel(
  model: ModelProto,
  options: InferenceSession.SessionOptions = {},
): Promise<InferenceSession> {
  const folders = new Set<string>();
  for (const t of graphTensors(model.graph!)) {
    if (!isExternal(t)) continue;
    const path = (lazySlice(t)!.source as { path?: string }).path;
    if (!path)
      throw new QuantscopeError('EXTERNAL_DATA', `tensor "${t.name}" is not in a file onnxruntime-node can open`);
    folders.add(dirname(path));
  }
  if (folders.size === 0) return createNodeSession(encodeModel(model), options);
  if (folders.size > 1)
    throw new QuantscopeError('EXTERNAL_DATA', `the model's data files are in ${folders.size} folders, not one`);
  const header = join([...folders][0]!, `.quantscope-session-${process.pid}-${headers++}.onnx`);
  try {
    writeFileSync(header, encodeModel(referencingHeader(model)));
  } catch (e) {
    throw new QuantscopeError(
      'BAD_DATA',
      `${dirname(header)}: cannot write the session's model header there (${(e as Error).message})`,
    );
  }
  try {
    return await createNodeSessionFromPath(header, options);
  } finally {
    rmSync(header, { force: true }); // onnxruntime has read it (and holds the data files itself)
  }
}
