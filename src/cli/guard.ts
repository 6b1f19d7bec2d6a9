/**
 * The command line's side of the guard rail and of recurrent models: the export checked against the
 * float model with onnxruntime-node (runtime/guardRun, the function the page's worker calls), inputs
 * fixed automatically where every sample gives them one value, and the recurrent pairs to chain.
 */
import { createNodeSessionForModel } from '../runtime/nodeModelSession';
import {
  describeVerdict,
  formatGuardValue,
  guardSplit,
  recurrentPairs,
  type Chain,
  type GuardVerdict,
} from '../core/guard';
import type { ModelProto, ModelSummary } from '../onnx';
import { guardExport } from '../runtime/guardRun';
import { sampleSource, type SampleSpec } from '../data/samples';
import { createNodeSession, nodeOrt } from '../runtime/ortNode';
import { DEFAULT_WEIGHT_SQNR_DB } from '../core/guardWeights';
import { checkWeightsStreamed } from '../runtime/guardWeights';
import { UsageError } from './args';
import { readModel } from './files';

/** The recurrent pairs to chain when --chain is given; a hint on stderr when the model has some and it is not. */
export function chainFor(summary: ModelSummary, wanted: boolean, say: (line: string) => void): Chain[] {
  const pairs = recurrentPairs(summary.inputs, summary.outputs);
  const named = pairs.map((p) => `${p.output} → ${p.input}`).join(', ');
  if (wanted && !pairs.length)
    throw new UsageError(`--chain: no output of ${summary.fileName} has the name and shape of an input`);
  if (wanted)
    say(
      `streaming order: each sample's ${named} fed back as the next sample's input (chained: ${pairs.map((p) => p.input).join(', ')})`,
    );
  else if (pairs.length)
    say(
      `note: ${summary.fileName} looks recurrent (${named}); --chain calibrates in streaming order, feeding each output back`,
    );
  return wanted ? pairs : [];
}

/**
 * Check an export against the float model: on the held-out samples when given, else on a split of the
 * calibration samples (said so). Null when there are no samples to run.
 */
export async function guardOnNode(
  prepared: ModelProto,
  exported: readonly Uint8Array[],
  heldOut: readonly SampleSpec[] | null,
  calibration: readonly SampleSpec[] | null,
  chain: readonly Chain[],
): Promise<GuardVerdict | null> {
  let samples: readonly SampleSpec[];
  let source: string;
  if (heldOut?.length) {
    samples = heldOut;
    source = `${heldOut.length} held-out sample${heldOut.length === 1 ? '' : 's'}`;
  } else if (calibration?.length) {
    const split = guardSplit(calibration.length);
    // a recurrent stream is checked from its start, in order
    samples = chain.length ? calibration : split.indices.map((i) => calibration[i]!);
    source = chain.length
      ? `the ${calibration.length} calibration samples, streamed in order, no held-out samples given (calibrated on too, so the check is optimistic)`
      : split.source;
  } else return null;
  const bytes = new Uint8Array(exported.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of exported) {
    bytes.set(p, o);
    o += p.length;
  }
  const f = await createNodeSessionForModel(prepared);
  const q = await createNodeSession(bytes);
  try {
    return await guardExport(nodeOrt, f, q, sampleSource(samples), { chain, source });
  } finally {
    await f.release();
    await q.release();
  }
}

/**
 * The weight-SQNR guard on a written export with external data (which may not fit a session here): every
 * quantized weight read back from OUT.onnx and its data file, one at a time, against the float model's.
 */
export async function guardWeightsOnNode(prepared: ModelProto, out: string): Promise<GuardVerdict | null> {
  const written = readModel(out).model;
  return checkWeightsStreamed(prepared, written, {
    targetDb: DEFAULT_WEIGHT_SQNR_DB,
    // The command line judges every file it writes with external data by its weights, whatever its size
    // (a file past 2 GiB may not fit a session here): say what was done, not that this one was too large.
    source: `not run: ${out} keeps its weights in external data, which the command line checks weight by weight`,
  });
}

/**
 * The guard's line: a warning on stderr when the export misses the target, else the check on stdout.
 * `int8Throughout` (a TFLite int8 file): only the ranges can change it, and the advice says so.
 */
export function reportVerdict(v: GuardVerdict | null, why?: string, int8Throughout = false): void {
  if (!v) {
    console.error(
      `note: the export was not checked against the float model: ${why ?? 'no samples (give --data or --held-out)'}`,
    );
    return;
  }
  const worst = v.worst?.length
    ? `; worst weights: ${v.worst.map((w) => `${w.tensor} (${w.node}) ${formatGuardValue(v.metric, w.sqnrDb)}`).join(', ')}`
    : '';
  if (v.passed) console.log(`check: ${describeVerdict(v)}${worst}`);
  else
    console.error(
      int8Throughout
        ? `warning: the export misses the target: ${describeVerdict(v)}. Try another --method: a TFLite int8 file is int8 throughout (TFLite's int8 specification), so --activations int16 and --exclude, which quantscope tune searches, apply to the ONNX forms, not to it`
        : v.metric === 'weight SQNR'
          ? `warning: the export misses the target: ${describeVerdict(v)}${worst}. Try --weights int8, a smaller --block-size, or --exclude the nodes at fault (quantscope tune searches for it)`
          : `warning: the export misses the target: ${describeVerdict(v)}. Try another --method, --activations int16, or --exclude the nodes at fault (quantscope tune searches for it)`,
    );
}
