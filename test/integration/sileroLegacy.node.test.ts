/**
 * Silero VAD legacy (from @ricky0123/vad-web; not the v5 the other Silero tests use): with sr fixed, its
 * LSTM stays inside an If that depends on run-time shapes, and reads two Transposes of a Relu output
 * from the main graph. Static QDQ of that graph wrote DQ → Transpose → (the branch's outer-scope read),
 * which onnxruntime's basic graph optimizer fails to load ("Argument type mismatch when adding edge";
 * onnxruntime-node aborts on an assertion). The export now quantizes those Transposes' outputs too
 * (onnx/qdq.ts): the file loads at onnxruntime's default optimization and follows the float model.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { sqnr } from '../../src/core/metrics';
import { buildQdqModel, decodeModel, encodeModel, planQuantization, withExtraOutputs } from '../../src/onnx';
import { prepareModel } from '../../src/onnx/prepare';
import { calibrate } from '../../src/runtime/calibrate';
import type { OrtModule } from '../../src/runtime/ort';
import { calibratedRanges } from '../../src/core/calibratedRanges';
import { ROOT } from '../helpers/sample';

const RAW = new Uint8Array(
  readFileSync(join(ROOT, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_legacy.onnx')),
);

/** A chunk of 512 samples: two tones and a little noise, louder chunk by chunk. */
function chunk(k: number): Float32Array {
  return Float32Array.from(
    { length: 512 },
    (_, i) => (0.3 * Math.sin(i * 0.07) + 0.05 * Math.sin(i * 1.3 + k)) * (0.5 + 0.25 * k),
  );
}

const feeds = (k: number, h: Float32Array = new Float32Array(128), c: Float32Array = new Float32Array(128)) => ({
  input: { data: chunk(k), dims: [1, 512] },
  sr: { type: 'int64' as const, data: BigInt64Array.of(16000n), dims: [] },
  h: { data: h, dims: [2, 1, 64] },
  c: { data: c, dims: [2, 1, 64] },
});

/** The speech probability and the final state over a stream of chunks, carrying h and c; `states` gets each chunk's h and c in. */
async function stream(
  bytes: Uint8Array,
  chunks = 6,
  states: [Float32Array, Float32Array][] = [],
  options: ort.InferenceSession.SessionOptions = {}, // default: every optimization onnxruntime has
): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, ...options });
  let h = new Float32Array(128);
  let c = new Float32Array(128);
  const out: number[] = [];
  for (let k = 0; k < chunks; k++) {
    const f = feeds(k, h, c);
    states.push([h, c]);
    const r = await s.run({
      input: new ort.Tensor('float32', f.input.data, f.input.dims),
      sr: new ort.Tensor('int64', f.sr.data, []),
      h: new ort.Tensor('float32', h, [2, 1, 64]),
      c: new ort.Tensor('float32', c, [2, 1, 64]),
    });
    out.push((r.output!.data as Float32Array)[0]!);
    h = Float32Array.from(r.hn!.data as Float32Array);
    c = Float32Array.from(r.cn!.data as Float32Array);
  }
  return Float32Array.from([...out, ...h, ...c]);
}

describe('Silero VAD legacy, static QDQ', () => {
  it('quantizes the Transposes its LSTM branch reads, and the file loads and follows the float model', async () => {
    // calibrated in streaming order: each chunk with the state the float model carries into it
    const states: [Float32Array, Float32Array][] = [];
    const reference = await stream(RAW, 6, states);
    const prepared = prepareModel(decodeModel(RAW, 'silero_vad_legacy.onnx'), { fixedInputs: { sr: 16000 } });
    const plan = planQuantization(prepared.model, DEFAULT_CONFIG);
    const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(prepared.model, plan.activations)), {
      logSeverityLevel: 3,
    });
    const stats = await calibrate(
      ort as unknown as OrtModule,
      session,
      { count: 6, feeds: async (k) => feeds(k, ...states[k]!) },
      plan.activations,
    );
    const q = buildQdqModel(prepared.model, plan, calibratedRanges(stats), DEFAULT_CONFIG);
    // the two Transposes the branch reads now end in a Q/DQ pair, and the branch reads the DQ's output
    const g = q.model.graph!;
    const quantizedTransposes = g.node
      .filter((n) => n.opType === 'Transpose')
      .filter((n) => g.node.some((m) => m.opType === 'QuantizeLinear' && m.input[0] === n.output[0]));
    expect(quantizedTransposes.length).toBeGreaterThanOrEqual(2);
    const lstmIf = g.node.find(
      (n) => n.opType === 'If' && n.attribute.some((a) => a.g?.node.some((m) => m.opType === 'LSTM')),
    )!;
    const branchReads = lstmIf.attribute.flatMap((a) => a.g?.node.flatMap((m) => m.input) ?? []);
    for (const t of quantizedTransposes) expect(branchReads).not.toContain(t.output[0]);
    // measured 23.3 dB on this stream (probabilities and state)
    // the pairs change nothing but the file: the branch reading the Transposes' float outputs instead (the
    // file as written before, which loads only with onnxruntime's optimizations off) runs to the same bits
    const before = clone(ModelProtoSchema, q.model);
    const pairs = quantizedTransposes.map((t) => {
      const qn = g.node.find((m) => m.opType === 'QuantizeLinear' && m.input[0] === t.output[0])!;
      const dq = g.node.find((m) => m.opType === 'DequantizeLinear' && m.input[0] === qn.output[0])!;
      return { t: t.output[0]!, q: qn.name, dq: dq.name, dqOut: dq.output[0]! };
    });
    const back = new Map(pairs.map((p) => [p.dqOut, p.t]));
    const dropped = new Set(pairs.flatMap((p) => [p.q, p.dq]));
    before.graph!.node = before.graph!.node.filter((n) => !dropped.has(n.name));
    for (const n of before.graph!.node)
      for (const a of n.attribute) for (const m of a.g?.node ?? []) m.input = m.input.map((i) => back.get(i) ?? i);
    const noOpt = { graphOptimizationLevel: 'disabled' } as const;
    expect(Array.from(await stream(encodeModel(q.model), 6, [], noOpt))).toEqual(
      Array.from(await stream(encodeModel(before), 6, [], noOpt)),
    );
    // static int8 suits this model badly (the export's guard rail says so): 2.6 dB measured on this
    // stream of probabilities and state, against 18.4 for v5 (silero.node.test.ts); an export that
    // broke the graph or its scales reads far lower or not finite
    const measured = sqnr(reference, await stream(encodeModel(q.model)));
    expect(measured).toBeGreaterThan(2);
  });
});
