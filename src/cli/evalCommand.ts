/** The eval command: a float model against its quantized file, output by output, over --data. */
import { basename } from 'node:path';
import { DEFAULT_CONFIG } from '../core/config';
import { isQuantscopeError, QuantscopeError } from '../core/errors';
import { compareTensors, topKAgreement } from '../core/metrics';
import { planQuantization, prepareModel, summarizeModel } from '../onnx';
import { materializeSample } from '../data/samples';
import { toOrtFeeds, type Tensor } from '../runtime/ort';
import { nodeOrt } from '../runtime/ortNode';
import { createNodeSessionForModel } from '../runtime/nodeModelSession';
import { listSampleAt, runOnSample } from '../runtime/sampleRun';
import { fixedInputs, hasFlag, UsageError, type Args } from './args';
import { loadSamples } from './data';
import { imageInput, readModel } from './files';

/** A session on the model, onnxruntime-node's refusal named for the file (a coded RUNTIME error). */
async function openNamed(model: Parameters<typeof createNodeSessionForModel>[0], path: string) {
  try {
    return await createNodeSessionForModel(model);
  } catch (e) {
    if (isQuantscopeError(e)) throw e; // ours (external data, a folder that cannot be written): already coded
    throw new QuantscopeError('RUNTIME', `onnxruntime-node cannot load ${basename(path)}: ${(e as Error).message}`);
  }
}

export async function cmdEval(a: Args): Promise<void> {
  const [floatPath, quantPath] = a.positional;
  if (!floatPath || !quantPath) throw new UsageError('eval needs FLOAT.onnx and QUANTIZED.onnx');
  const data = a.flags.get('data');
  if (!data) throw new UsageError('eval needs --data');
  const f = readModel(floatPath);
  const q = readModel(quantPath);
  const fixed = fixedInputs(a);
  const prepared = prepareModel(f.model, { fixedInputs: fixed }).model;
  const s = summarizeModel(f.model, prepared, planQuantization(prepared, DEFAULT_CONFIG), basename(floatPath), 0, []);
  const samples = loadSamples(data, s.inputs, imageInput(prepared), fixed);
  const fs = await openNamed(f.model, floatPath);
  const qs = await openNamed(q.model, quantPath);
  const rows: {
    sample: string;
    output: string;
    sqnrDb: number;
    cosine: number;
    maxAbsError: number;
    top1: number | null;
  }[] = [];
  for (const [index, sample] of samples.entries()) {
    const given = materializeSample(sample);
    const feeds = toOrtFeeds(nodeOrt, given);
    const at = listSampleAt(samples, index);
    const fo = await runOnSample(() => fs.run(feeds), given, at, basename(floatPath));
    const qo = await runOnSample(() => qs.run(feeds), given, at, basename(quantPath));
    for (const name of fs.outputNames) {
      const ft = fo[name] as unknown as Tensor;
      const qt = qo[name] as unknown as Tensor | undefined;
      if (!qt) throw new QuantscopeError('RUNTIME', `${quantPath}: has no output "${name}"`);
      const m = compareTensors(ft.data as Float32Array, qt.data as Float32Array);
      const top = topKAgreement(ft.data as Float32Array, qt.data as Float32Array, ft.dims);
      rows.push({
        sample: sample.name,
        output: name,
        sqnrDb: m.sqnrDb,
        cosine: m.cosine,
        maxAbsError: m.maxAbs,
        top1: top ? top.top1 / top.rows : null,
      });
    }
  }
  if (hasFlag(a, 'json')) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  for (const r of rows)
    console.log(
      `${r.sample} ${r.output}: SQNR ${r.sqnrDb.toFixed(2)} dB, cosine ${r.cosine.toFixed(5)}, max error ${r.maxAbsError.toExponential(3)}${r.top1 !== null ? `, top-1 agreement ${(100 * r.top1).toFixed(1)}%` : ''}`,
    );
}
