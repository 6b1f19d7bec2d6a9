/** The inspect command: a model's summary, and what will be quantized. */
import { basename } from 'node:path';
import { DEFAULT_CONFIG } from '../core/config';
import { planQuantization, prepareModel, summarizeModel } from '../onnx';
import { fixedInputs, hasFlag, UsageError, type Args } from './args';
import { readModel, sha256 } from './files';

export async function cmdInspect(a: Args): Promise<void> {
  const path = a.positional[0];
  if (!path) throw new UsageError('inspect needs a model');
  const { bytes, model, sizeBytes, dataFiles } = readModel(path);
  const prep = prepareModel(model, { fixedInputs: fixedInputs(a) });
  const plan = planQuantization(prep.model, DEFAULT_CONFIG);
  const s = summarizeModel(model, prep.model, plan, basename(path), sizeBytes, prep.log);
  if (hasFlag(a, 'json')) {
    console.log(JSON.stringify({ ...s, sha256: sha256(bytes) }, null, 2));
    return;
  }
  const io = (v: (typeof s.inputs)[number]) => `  ${v.name}: ${v.dtype} [${(v.shape ?? ['?']).join(', ')}]`;
  console.log(
    `${s.fileName}: ${sizeBytes} bytes${dataFiles.length ? ` (weights in ${dataFiles.join(', ')})` : ''}, IR ${s.irVersion}, opset ${s.opset}, ${s.nodeCount} nodes, ${s.parameterCount} parameters`,
  );
  console.log(`inputs:\n${s.inputs.map(io).join('\n')}\noutputs:\n${s.outputs.map(io).join('\n')}`);
  console.log(
    `operators: ${Object.entries(s.opCounts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (s.preparation.length) console.log(`preparation:\n${s.preparation.map((l) => `  ${l}`).join('\n')}`);
  console.log(
    `${s.quantizedNodes.length} nodes will be quantized; ${s.floatNodes.length} quantizable nodes stay float`,
  );
}
