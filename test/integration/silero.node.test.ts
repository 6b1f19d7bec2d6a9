/**
 * Silero VAD v5 (from @ricky0123/vad-web): weights in Constant nodes inside If subgraphs, an LSTM, a
 * top-level If on the sample rate. With sr fixed to 16000 the If folds to its 16 kHz branch; the
 * Ifs that depend on run-time shapes stay, and what they hold stays float. Then every form: the file
 * loads and runs in onnxruntime-node, and its speech probability and state agree with the original
 * model's over a stream of chunks above a measured bound.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type ExportForm } from '../../src/core/config';
import { sqnr } from '../../src/core/metrics';
import {
  buildQdqModel,
  decodeModel,
  encodeModel,
  exportForm,
  planQuantization,
  withExtraOutputs,
  type ModelProto,
} from '../../src/onnx';
import { prepareModel } from '../../src/onnx/prepare';
import { foldKnownIfs } from '../../src/onnx/passes/foldIf';
import { calibrate } from '../../src/runtime/calibrate';
import type { OrtModule } from '../../src/runtime/ort';
import { calibratedRanges } from '../../src/core/calibratedRanges';
import { ROOT } from '../helpers/sample';
import { nodePageStore } from '../helpers/store';
import { symbolicDims } from '../../src/data/buildSamples';

const RAW = new Uint8Array(
  readFileSync(join(ROOT, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx')),
);

/** A chunk of 512 samples: two tones and a little noise, louder chunk by chunk. */
function chunk(k: number): Float32Array {
  return Float32Array.from(
    { length: 512 },
    (_, i) =>
      (0.3 * Math.sin(i * 0.07) + 0.05 * Math.sin(i * 1.3 + k)) * (0.5 + 0.25 * k) + 0.01 * Math.sin(i * i * 0.001 + k),
  );
}

/** Run a stream of chunks, carrying the state: the probabilities and the final state, as one vector. */
async function stream(bytes: Uint8Array, chunks = 6): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  let state: Float32Array = new Float32Array(2 * 128);
  const out: number[] = [];
  for (let k = 0; k < chunks; k++) {
    const r = await s.run({
      input: new ort.Tensor('float32', chunk(k), [1, 512]),
      state: new ort.Tensor('float32', state, [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []),
    });
    out.push((r.output!.data as Float32Array)[0]!);
    state = Float32Array.from(r.stateN!.data as Float32Array);
  }
  for (const v of state) out.push(v);
  return Float32Array.from(out);
}

describe('Silero VAD v5 through every form', () => {
  const prepared = prepareModel(decodeModel(RAW, 'silero_vad_v5.onnx'), { fixedInputs: { sr: 16000 } });
  let reference: Float32Array;
  const ref = async () => (reference ??= await stream(RAW));

  it('folds the If on sr, keeps the run-time Ifs, and changes no output', async () => {
    expect(prepared.log.join('\n')).toMatch(/folded If_0 \(Equal_0_C = true: then branch\)/);
    expect(prepared.log.join('\n')).toMatch(/12 control-flow nodes depend on run-time values and stay/);
    expect(prepared.model.graph!.node.some((n) => n.name === 'If_0')).toBe(false);
    expect(prepared.model.graph!.input.map((v) => v.name)).toContain('sr'); // callers still feed it
    const out = await stream(encodeModel(prepared.model));
    expect(Array.from(out)).toEqual(Array.from(await ref()));
  });

  // bounds a little under what was measured on this stream: dq int8 26.6 dB, dq int4 blocks of 32 5.3,
  // MatMulNBits nothing to quantize (exact), dynamic 13.0, float16 51.8, bfloat16 29.2, q4f16 51.8, static
  // QDQ 18.4. int4 blocks: since Conv weights take blocks along their input channels (DequantizeLinear-21
  // axis 1) the weights are closer to float (encoder convs 17-21 dB against 13-16 per channel, read back
  // from onnxruntime's DequantizeLinear) yet this stream is 5.3 dB against 17.0 with per-channel Conv
  // weights; the speech probabilities are far off either way (1.4 dB per channel, -3.4 in blocks): int4
  // weights do not suit Silero, which the export's guard rail now says.
  const rows: [ExportForm, number][] = [
    [{ kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null }, 24],
    [{ kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 32 }, 4],
    [{ kind: 'weight-only', format: 'matmulnbits', dtype: 'int4', symmetric: true, blockSize: 32 }, 100],
    [{ kind: 'dynamic', ops: ['MatMul', 'Gemm', 'Conv'] }, 11],
    [{ kind: 'float16', keepIoTypes: true }, 50],
    [{ kind: 'bfloat16' }, 27],
    [{ kind: 'q4f16', blockSize: 32 }, 50],
  ];
  it.each(rows.map(([f, b]) => [JSON.stringify(f), f, b] as const))('%s', async (_l, form, bound) => {
    const r = exportForm(prepared.model, { ...DEFAULT_CONFIG, form });
    const measured = sqnr(await ref(), await stream(encodeModel(r.model)));
    expect(measured).toBeGreaterThanOrEqual(bound);
    if (form.kind === 'weight-only' && form.format === 'matmulnbits')
      expect(r.report.notes.join(' ')).toMatch(/nothing to quantize/); // no MatMul outside the LSTM's subgraphs
  });

  it('static QDQ, calibrated on the main graph (subgraph tensors stay float)', async () => {
    const plan = planQuantization(prepared.model, DEFAULT_CONFIG);
    expect(plan.nodes.length).toBeGreaterThanOrEqual(7);
    const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(prepared.model, plan.activations)), {
      logSeverityLevel: 3,
    });
    const stats = await calibrate(
      ort as unknown as OrtModule,
      session,
      {
        count: 8,
        feeds: async (k) => ({
          input: { data: chunk(k), dims: [1, 512] },
          state: { data: new Float32Array(256), dims: [2, 1, 128] },
          sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
        }),
      },
      plan.activations,
    );
    const q = buildQdqModel(prepared.model, plan, calibratedRanges(stats), DEFAULT_CONFIG);
    expect(sqnr(await ref(), await stream(encodeModel(q.model)))).toBeGreaterThan(16);
  });
});

describe('subgraphs that cannot be handled', () => {
  it('an If whose branch redefines a main-graph name is refused by name', () => {
    const m: ModelProto = decodeModel(RAW, 'vad');
    const branch = m.graph!.node.find((n) => n.opType === 'If')!.attribute.find((a) => a.name === 'then_branch')!.g!;
    branch.node[0]!.output[0] = 'Equal_0_C'; // a name the main graph already defines
    expect(() => foldKnownIfs(m, { sr: 16000 })).toThrow(/If "If_0" is not folded: its branch defines "Equal_0_C"/);
  });

  it('without the input fixed, the If stays and the log says why nothing inside is calibrated', () => {
    const p = prepareModel(decodeModel(RAW, 'vad'), { fixedInputs: { other: 1 } });
    expect(p.model.graph!.node.some((n) => n.opType === 'If')).toBe(true);
    expect(p.log.join('\n')).toMatch(/depend on run-time values and stay/);
  });
});

describe('Silero VAD through the store, as the page drives it', () => {
  it('offers sr to fix, folds the If once fixed, calibrates on generated data and exports', async () => {
    const store = nodePageStore();
    store.getState().loadModel('silero_vad_v5.onnx', RAW);
    expect(store.getState().model!.fixableInputs).toEqual(['sr']);
    expect(store.getState().model!.plan.nodes.length).toBe(0); // everything sits inside the If
    store.getState().fixInput('sr', 16000);
    const m = store.getState().model!;
    expect(m.fixedInputs).toEqual({ sr: 16000 });
    expect(m.summary.preparation.join('\n')).toMatch(/folded If_0/);
    expect(m.plan.nodes.length).toBeGreaterThanOrEqual(7);
    for (const d of symbolicDims(m.summary.inputs)) {
      store.getState().setDimValue(d, d.toLowerCase().includes('batch') ? 1 : 512);
    }
    store.getState().useGeneratedData(4);
    await store.getState().calibrate();
    expect(store.getState().calibration.status).toBe('done');
    const exported = (await store.getState().exportModel())!;
    expect(exported.report!.quantizedNodes).toBeGreaterThanOrEqual(7);
    const s = await ort.InferenceSession.create(exported.bytes, { logSeverityLevel: 3 });
    const r = await s.run({
      input: new ort.Tensor('float32', chunk(2), [1, 512]),
      state: new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []),
    });
    expect(Number.isFinite((r.output!.data as Float32Array)[0])).toBe(true);
  });
});
