/** The debug command: which tensor broke it, the float model against the quantized one, tensor by tensor. */
import { prepareModel } from '../onnx';
import { debugModels } from '../runtime/debug';
import { createNodeSessionForModel } from '../runtime/nodeModelSession';
import { nodeOrt } from '../runtime/ortNode';
import { fixedInputs, hasFlag, UsageError, type Args } from './args';
import { readModel } from './files';
import { progressBar } from './progress';
import { fmt, fmtDb, quiet, samplesFor } from './tuneSetup';

export async function cmdDebug(a: Args): Promise<void> {
  const [floatPath, quantPath] = a.positional;
  if (!floatPath || !quantPath) throw new UsageError('debug needs FLOAT.onnx and QUANTIZED.onnx');
  const f = readModel(floatPath);
  const q = readModel(quantPath);
  const prepared = prepareModel(f.model, { fixedInputs: fixedInputs(a) }).model;
  const samples = samplesFor(a, f.model, prepared, 'data');
  if (!samples) throw new UsageError('debug needs --data');
  const b = quiet(a) ? null : progressBar('debugging');
  // models with external data: onnxruntime-node reads the data files where they are (never through this heap)
  const r = await debugModels(nodeOrt, prepared, q.model, samples, {
    onProgress: (d, t) => b?.update(d, t),
    open: createNodeSessionForModel,
  }).finally(() => b?.stop());
  if (hasFlag(a, 'json')) {
    console.log(
      JSON.stringify(r, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2),
    );
    return;
  }
  console.log(
    `${r.tensors.length} tensors over ${r.samples} samples (SQNR; own: the tensor against its own Q/DQ; accumulated: float model's against the quantized model's; weights and constants: float against dequantized)`,
  );
  for (const t of r.tensors)
    console.log(
      `${t.tensor === r.firstDivergence ? '>' : ' '} ${t.kind.padEnd(10)} ${t.tensor} (${t.opType} ${t.node}): ${t.own ? `own ${fmtDb(t.own.sqnrDb)}, ` : ''}${t.kind === 'activation' ? 'accumulated' : 'float against dequantized'} ${fmtDb(t.accumulated.sqnrDb)} (cosine ${t.accumulated.cosine.toFixed(5)})`,
    );
  if (r.firstDivergence) {
    const t = r.tensors.find((x) => x.tensor === r.firstDivergence)!;
    console.log(
      `first divergence: ${t.tensor} (${t.opType} ${t.node}): accumulated SQNR falls ${fmt(t.dropDb!)} dB here`,
    );
  }
}
