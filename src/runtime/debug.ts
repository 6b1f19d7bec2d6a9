/**
 * The per-tensor debugger: where along the graph a quantized model departs from its float model.
 * For every activation the quantized model quantizes (a QuantizeLinear on a tensor the float model
 * also has) and every weight behind a DequantizeLinear:
 *   own error          the quantized model's tensor against its own Q→DQ (what this range costs alone)
 *   accumulated error  the float model's tensor against the quantized model's Q→DQ output (what the
 *                      next op reads: this range's error plus all that reached it from upstream)
 *   weights            the float weight against the dequantized one (a Conv/ConvTranspose/MatMul/Gemm's
 *                      weight or bias, as the plan quantizes them: onnx/plan.ts);
 *   constants          any other initializer behind a DequantizeLinear (an Add's or Mul's constant input,
 *                      quantized per tensor with the activations' dtype: onnx/qdq.ts), float against
 *                      dequantized. One that quantizes exactly (a scalar 1, say) has no noise: its SQNR
 *                      is +Infinity, which the views show as "exact", never as a dB figure.
 * Streamed: each sample runs both models, is folded into running sums (core/errorSums) and dropped;
 * no activation outlives its sample (onnxruntime's qdq_loss_debug keeps them all in memory).
 * The first divergence is the tensor whose accumulated SQNR falls most below that of the quantized
 * tensors feeding it (below its own SQNR when none feeds it, so a graph input is not a divergence
 * just for being first).
 */
import { EMPTY_SUMS, foldErrorSums, sumsCosine, sumsSqnr, type ErrorSums } from '../core/errorSums';
import { QuantscopeError } from '../core/errors';
import { readFloat32, withExtraOutputs, type ModelProto, type TensorProto } from '../onnx';
import { indexGraph } from '../onnx/graph';
import { WEIGHTED_OPS } from '../onnx/plan';
import { materializeSample, type SampleSpec } from '../data/samples';
import { bytesSessionOpener, type ModelSessionOpener } from './modelSession';
import { toOrtFeeds, type OrtModule, type Tensor } from './ort';
import { floatOutputArrays, openOutputArrayPool } from './outputArrayPool';
import { listSampleAt, runOnSample } from './sampleRun';

export interface TensorError {
  readonly tensor: string;
  readonly kind: 'activation' | 'weight' | 'constant';
  /** The node producing the activation, or the node reading the weight or constant. */
  readonly node: string;
  readonly opType: string;
  readonly own: { readonly sqnrDb: number; readonly cosine: number } | null;
  readonly accumulated: { readonly sqnrDb: number; readonly cosine: number };
  /** accumulated SQNR lost here against the quantized tensors feeding it (activations). */
  readonly dropDb: number | null;
}

export interface DebugResult {
  readonly tensors: readonly TensorError[];
  readonly firstDivergence: string | null;
  readonly samples: number;
  readonly elapsedMs: number;
}

interface ActPair {
  readonly tensor: string;
  readonly dq: string;
}

const CAP_DB = 150;
const capped = (x: number) => Math.min(x, CAP_DB);

export async function debugModels(
  ort: OrtModule,
  float: ModelProto,
  quant: ModelProto,
  samples: readonly SampleSpec[],
  opts: {
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
    /** How to open a model's session (with its external data files): the bytes, by default. */
    open?: ModelSessionOpener;
    /** Lend each sample's arrays to the next sample's outputs (default; see outputArrayPool.ts). */
    recycleOutputs?: boolean;
  } = {},
): Promise<DebugResult> {
  const open = opts.open ?? bytesSessionOpener(ort);
  const t0 = performance.now();
  if (samples.length === 0) throw new QuantscopeError('BAD_DATA', 'no samples to debug on');
  const fg = float.graph!;
  const qg = quant.graph!;
  const fi = indexGraph(fg);
  const qi = indexGraph(qg);
  const floatNames = new Set([...fg.input.map((v) => v.name), ...fg.node.flatMap((n) => n.output)]);
  const acts: ActPair[] = [];
  for (const n of qg.node) {
    if (n.opType !== 'QuantizeLinear' || !floatNames.has(n.input[0]!)) continue;
    const dq = (qi.consumers.get(n.output[0]!) ?? []).find((c) => c.opType === 'DequantizeLinear');
    if (dq) acts.push({ tensor: n.input[0]!, dq: dq.output[0]! });
  }
  const order = new Map<string, number>();
  fg.input.forEach((v, i) => order.set(v.name, i - fg.input.length));
  fg.node.forEach((n, i) => n.output.forEach((o) => order.set(o, i)));
  acts.sort((a, b) => order.get(a.tensor)! - order.get(b.tensor)!);

  // weights and constants: a DequantizeLinear of an initializer, read by a node the float model has by
  // name; a weight where it is a weighted op's weight (input 1) or bias (input 2), a constant elsewhere
  const floatNodes = new Map(fg.node.map((n) => [n.name, n]));
  const weights: {
    dq: string;
    node: string;
    opType: string;
    /** The float weight, read when its error is measured (one at a time: a lazy tensor stays in its file). */
    float: TensorProto;
    tensor: string;
    kind: 'weight' | 'constant';
  }[] = [];
  for (const n of qg.node) {
    if (n.opType !== 'DequantizeLinear' || !qi.initializers.has(n.input[0]!)) continue;
    for (const c of qi.consumers.get(n.output[0]!) ?? []) {
      const i = c.input.indexOf(n.output[0]!);
      const fw = floatNodes.get(c.name)?.input[i];
      const init = fw ? fi.initializers.get(fw) : undefined;
      if (!init || init.dataType !== 1) continue;
      const kind = WEIGHTED_OPS.has(c.opType) && (i === 1 || i === 2) ? 'weight' : 'constant';
      weights.push({ dq: n.output[0]!, node: c.name, opType: c.opType, float: init, tensor: fw!, kind });
    }
  }
  if (acts.length === 0 && weights.length === 0)
    throw new QuantscopeError(
      'BAD_DATA',
      'the quantized model has no QuantizeLinear or DequantizeLinear the float model matches',
    );

  const fs = await open(
    withExtraOutputs(
      float,
      acts.map((a) => a.tensor),
    ),
  );
  const qFetch = [...new Set([...acts.flatMap((a) => [a.tensor, a.dq]), ...weights.map((w) => w.dq)])];
  let qs;
  try {
    qs = await open(withExtraOutputs(quant, qFetch));
  } catch (e) {
    await fs.release();
    throw e;
  }
  const own = new Map<string, ErrorSums>();
  const acc = new Map<string, ErrorSums>();
  const weightSums = new Map<string, ErrorSums>();
  // each sample's arrays, once its errors are summed, are lent to the next sample's outputs where the
  // runtime asks (the page's onnxruntime-web: outputArrayPool.ts): two models' every tensor a sample
  const pool = opts.recycleOutputs === false ? null : openOutputArrayPool();
  try {
    for (let s = 0; s < samples.length; s++) {
      if (opts.signal?.aborted) throw new QuantscopeError('CANCELLED', 'debugging was cancelled');
      const given = materializeSample(samples[s]!);
      const feeds = toOrtFeeds(ort, given);
      const at = listSampleAt(samples, s);
      const floatFetch = acts.map((a) => a.tensor);
      const fo = await runOnSample(() => fs.run(feeds, floatFetch), given, at, 'the float model');
      const qo = await runOnSample(() => qs.run(feeds, qFetch), given, at, 'the quantized model');
      const data = (r: Record<string, unknown>, t: string) => (r[t] as Tensor).data as Float32Array;
      for (const a of acts) {
        const qt = data(qo, a.tensor);
        const qd = data(qo, a.dq);
        own.set(a.tensor, foldErrorSums(own.get(a.tensor) ?? EMPTY_SUMS, qt, qd));
        acc.set(a.tensor, foldErrorSums(acc.get(a.tensor) ?? EMPTY_SUMS, data(fo, a.tensor), qd));
      }
      if (s === 0)
        for (const w of weights)
          weightSums.set(`${w.node}:${w.tensor}`, foldErrorSums(EMPTY_SUMS, readFloat32(w.float), data(qo, w.dq)));
      for (const r of [fo, qo]) {
        pool?.give(floatOutputArrays(r));
        for (const v of Object.values(r)) (v as Tensor).dispose?.();
      }
      opts.onProgress?.(s + 1, samples.length);
    }
  } finally {
    pool?.close();
    await fs.release();
    await qs.release();
  }

  // nearest quantized ancestors in the float graph, for each quantized activation
  const accSqnr = new Map(acts.map((a) => [a.tensor, sumsSqnr(acc.get(a.tensor)!)]));
  const upstream = (t: string): number => {
    const seen = new Set<string>();
    const stack = [...(fi.producer.get(t)?.input ?? [])];
    let worst = Infinity;
    while (stack.length) {
      const x = stack.pop()!;
      if (!x || seen.has(x) || fi.initializers.has(x)) continue;
      seen.add(x);
      const s = accSqnr.get(x);
      if (s !== undefined) worst = Math.min(worst, s);
      else stack.push(...(fi.producer.get(x)?.input ?? []));
    }
    return worst;
  };
  const rows: TensorError[] = acts.map((a) => {
    const o = own.get(a.tensor)!;
    const c = acc.get(a.tensor)!;
    const p = fi.producer.get(a.tensor);
    // with no quantized tensor upstream, the level it falls from is its own quantization error: a
    // graph input (accumulated error = its own) is not a divergence just for being first, and its
    // own SQNR still shows in the list
    const up = upstream(a.tensor);
    const from = Number.isFinite(up) ? up : sumsSqnr(o);
    return {
      tensor: a.tensor,
      kind: 'activation',
      node: p?.name ?? '(input)',
      opType: p?.opType ?? 'input',
      own: { sqnrDb: sumsSqnr(o), cosine: sumsCosine(o) },
      accumulated: { sqnrDb: sumsSqnr(c), cosine: sumsCosine(c) },
      dropDb: capped(from) - capped(sumsSqnr(c)),
    };
  });
  for (const w of weights) {
    const s = weightSums.get(`${w.node}:${w.tensor}`)!;
    rows.push({
      tensor: w.tensor,
      kind: w.kind,
      node: w.node,
      opType: w.opType,
      own: null,
      accumulated: { sqnrDb: sumsSqnr(s), cosine: sumsCosine(s) },
      dropDb: null,
    });
  }
  let first: TensorError | null = null;
  for (const r of rows) if (r.dropDb !== null && (!first || r.dropDb > first.dropDb!)) first = r;
  return {
    tensors: rows,
    firstDivergence: first?.tensor ?? null,
    samples: samples.length,
    elapsedMs: performance.now() - t0,
  };
}
