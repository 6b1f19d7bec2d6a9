/**
 * Every export form on a small built transformer: the file loads and runs in onnxruntime-node and
 * onnxruntime-web (WASM, in a process of its own), its output agrees with the float model's above a
 * measured bound, and its size is what the form promises. Bounds were measured here and are asserted
 * a little below (measured values in the comments); a deliberately broken file fails them.
 * On PP-OCRv4: forms.ocr.node.test.ts; through the page's store: forms.store.node.test.ts.
 */
import * as ort from 'onnxruntime-node';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { sqnr } from '../../src/core/metrics';
import {
  bytesOf,
  encodeModel,
  exportForm,
  makeNode,
  makeTensor,
  readFloat32,
  TRANSFORMERS_JS_PRESETS,
  type ModelProto,
} from '../../src/onnx';
import { prepareModel } from '../../src/onnx/prepare';
import { runAll, type Feed, type Row } from '../helpers/formRuns';
import { buildModel, floatTensor, tinyTransformer } from '../helpers/models';
import { ROOT } from '../helpers/sample';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-forms-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The same file through onnxruntime-web's WASM build, in a child process. */
function runWeb(bytes: Uint8Array, feed: Feed): Float32Array {
  const model = join(dir, `m${Math.random().toString(36).slice(2)}.onnx`);
  writeFileSync(model, bytes);
  const ext = feed.tensor.type === 'int64' ? 'i64' : 'f32';
  const input = model.replace(/\.onnx$/, `.in.${ext}`);
  writeFileSync(input, bytesOf(feed.tensor.data as Float32Array | BigInt64Array));
  execFileSync(
    process.execPath,
    [join(ROOT, 'test', 'helpers', 'ort-web-run.mjs'), model, feed.name, JSON.stringify(feed.tensor.dims), input],
    { stdio: 'pipe', timeout: 120_000 },
  );
  const b = readFileSync(input.replace(/\.(f32|i64)$/, '.out.f32'));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const transformer = prepareModel(tinyTransformer()).model;
const tokens: Feed[] = [0, 1].map((k) => ({
  name: 'tokens',
  tensor: new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: 16 }, (_, i) => BigInt((i * 37 + k * 101) % 512)),
    [1, 16],
  ),
}));

// transformer (2.1 MB float): measured SQNR / size ratio in the comments
const TRANSFORMER_ROWS: Row[] = [
  {
    form: { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null },
    minSqnr: 30,
    size: [0.24, 0.3],
  }, // 33.4 dB, 0.262
  {
    form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 32 },
    minSqnr: 10,
    size: [0.15, 0.2],
  }, // 11.9, 0.162
  {
    form: { kind: 'weight-only', format: 'dq', dtype: 'uint4', symmetric: false, blockSize: 32 },
    minSqnr: 11,
    size: [0.15, 0.2],
  }, // 12.8, 0.167
  {
    form: { kind: 'weight-only', format: 'matmulnbits', dtype: 'int4', symmetric: true, blockSize: 32 },
    minSqnr: 12,
    size: [0.2, 0.3],
  }, // 14.2, 0.267 (embedding stays float)
  {
    form: { kind: 'weight-only', format: 'matmulnbits', dtype: 'uint4', symmetric: false, blockSize: 64 },
    minSqnr: 11.5,
    size: [0.2, 0.3],
  }, // 13.3, 0.256
  {
    form: { kind: 'weight-only', format: 'matmulnbits', dtype: 'int8', symmetric: true, blockSize: 128 },
    minSqnr: 34,
    size: [0.3, 0.4],
  }, // 36.7, 0.356
  { form: { kind: 'dynamic', ops: ['MatMul', 'Gemm'] }, minSqnr: 30, size: [0.3, 0.4] }, // 33.1, 0.357
  { form: { kind: 'float16', keepIoTypes: true }, minSqnr: 55, size: [0.49, 0.52] }, // 63.8, 0.501
  { form: { kind: 'bfloat16' }, minSqnr: 42, size: [0.49, 0.52] }, // 47.4, 0.502
  { form: { kind: 'q4f16', blockSize: 32 }, minSqnr: 12, size: [0.15, 0.22] }, // 14.2, 0.189
];

describe('every form on a small transformer (embedding, attention, LayerNorm, GELU)', () => {
  let reference: Float32Array;
  it.each(TRANSFORMER_ROWS.map((r) => [JSON.stringify(r.form), r] as const))('%s', async (_label, row) => {
    const floatBytes = encodeModel(transformer);
    reference ??= await runAll(floatBytes, tokens);
    const r = exportForm(transformer, { ...DEFAULT_CONFIG, form: row.form });
    const bytes = encodeModel(r.model);
    const out = await runAll(bytes, tokens);
    expect(sqnr(reference, out)).toBeGreaterThanOrEqual(row.minSqnr);
    const ratio = bytes.length / floatBytes.length;
    expect(ratio).toBeGreaterThanOrEqual(row.size[0]);
    expect(ratio).toBeLessThanOrEqual(row.size[1]);
    if (row.form.kind !== 'float16' && row.form.kind !== 'bfloat16')
      expect(r.report.quantizedNodes.length).toBeGreaterThanOrEqual(13);
  });

  // measured node-vs-web agreement: 37.4 dB for int4 DequantizeLinear (their kernels round differently), more for the others
  it('runs the same files in onnxruntime-web (WASM), close to onnxruntime-node', async () => {
    const floatBytes = encodeModel(transformer);
    const reference0 = (await runAll(floatBytes, [tokens[0]!])).slice();
    for (const form of [
      TRANSFORMER_ROWS[1]!.form,
      TRANSFORMER_ROWS[3]!.form,
      TRANSFORMER_ROWS[6]!.form,
      TRANSFORMER_ROWS[7]!.form,
    ]) {
      const bytes = encodeModel(exportForm(transformer, { ...DEFAULT_CONFIG, form }).model);
      const node = await runAll(bytes, [tokens[0]!]);
      const web = runWeb(bytes, tokens[0]!);
      expect(sqnr(node, web), JSON.stringify(form)).toBeGreaterThan(30);
      expect(sqnr(reference0, web)).toBeGreaterThan(10);
    }
  });

  it('the bound means something: MatMulNBits scales doubled fail it', async () => {
    const floatBytes = encodeModel(transformer);
    const ref = await runAll(floatBytes, tokens);
    const r = exportForm(transformer, { ...DEFAULT_CONFIG, form: TRANSFORMER_ROWS[3]!.form });
    for (const t of r.model.graph!.initializer.filter((t) => t.name.includes('MatMulNBits_scales')))
      t.rawData = bytesOf(readFloat32(t).map((v) => v * 2));
    expect(sqnr(ref, await runAll(encodeModel(r.model), tokens))).toBeLessThan(TRANSFORMER_ROWS[3]!.minSqnr);
  });

  it('the presets write the file names transformers.js loads', () => {
    expect(TRANSFORMERS_JS_PRESETS.map((p) => p.fileName)).toEqual([
      'model_fp16.onnx',
      'model_quantized.onnx',
      'model_q4.onnx',
      'model_q4f16.onnx',
    ]);
  });
});

describe('bad input', () => {
  it('names what stays float and why: activation MatMuls, a non-constant weight, an excluded node', () => {
    const r = exportForm(transformer, {
      ...DEFAULT_CONFIG,
      excludeNodes: ['lm_head'],
      form: { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null },
    });
    const why = new Map(r.report.floatNodes.map((f) => [f.node, f.reason]));
    expect(why.get('lm_head')).toBe('kept float by choice');
    expect(why.get('l0_scores')).toMatch(/not a constant initializer/);
  });

  it('refuses MatMulNBits at widths it does not have, and a block size that is not a power of two', () => {
    expect(() =>
      exportForm(transformer, {
        ...DEFAULT_CONFIG,
        form: { kind: 'weight-only', format: 'matmulnbits', dtype: 'int16', symmetric: true, blockSize: 32 },
      }),
    ).toThrow(/4 or 8 bits/);
    expect(() =>
      exportForm(transformer, {
        ...DEFAULT_CONFIG,
        form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 48 },
      }),
    ).toThrow(/power of two/);
  });

  it('clamps float16 overflow and says so', () => {
    const m: ModelProto = prepareModel(tinyTransformer({ layers: 1 })).model;
    const emb = m.graph!.initializer.find((t) => t.name === 'embedding')!;
    const v = readFloat32(emb);
    v[3] = 1e6;
    emb.rawData = bytesOf(v);
    emb.floatData = [];
    const r = exportForm(m, { ...DEFAULT_CONFIG, form: { kind: 'float16', keepIoTypes: true } });
    expect(r.report.notes.join(' ')).toMatch(/1 weight values past ±65504 clamped/);
  });
});

describe('float16 of a model quantized already', () => {
  // QuantizeLinear/DequantizeLinear take float16 only from opset 19: below it they keep float32, with
  // Casts around them (a float16 input to QuantizeLinear-13 is refused by onnxruntime: the file was invalid)
  const qdqConv = (opset: number) =>
    buildModel({
      inputs: [['X', [1, 3, 8, 8]]],
      outputs: [['Y', [1, 4, 8, 8]]],
      opset,
      inits: [
        floatTensor('s', [], () => 0.02),
        makeTensor('z', 2, [], Uint8Array.of(128)),
        floatTensor('W', [4, 3, 3, 3], (i) => Math.sin(i) * 0.3),
        floatTensor('B', [4], (i) => 0.1 * i),
      ],
      nodes: [
        makeNode('QuantizeLinear', ['X', 's', 'z'], ['xq'], 'q'),
        makeNode('DequantizeLinear', ['xq', 's', 'z'], ['xd'], 'dq'),
        makeNode('Conv', ['xd', 'W', 'B'], ['c'], 'conv', { pads: [1, 1, 1, 1] }),
        makeNode('Relu', ['c'], ['Y'], 'relu'),
      ],
    });
  it.each([13, 19])('opset %i: the file loads in onnxruntime and follows the float model', async (opset) => {
    const m = qdqConv(opset);
    const r = exportForm(m, { ...DEFAULT_CONFIG, form: { kind: 'float16', keepIoTypes: true } });
    const kept = r.report.floatNodes.map((f) => f.node);
    if (opset < 19) expect(r.report.floatNodes[0]!.reason).toBe('its type constraints take float32 only (opset 13)');
    if (opset < 19)
      expect(kept).toEqual(['dq (DequantizeLinear)']); // listed: the kept nodes with a float output
    else expect(kept).toEqual([]);
    const x = Float32Array.from({ length: 192 }, (_, i) => Math.cos(i * 0.37) * 1.5);
    const feeds = { X: new ort.Tensor('float32', x, [1, 3, 8, 8]) };
    const f = await ort.InferenceSession.create(encodeModel(m));
    const h = await ort.InferenceSession.create(encodeModel(r.model));
    const ref = (await f.run(feeds)).Y!.data as Float32Array;
    const got = (await h.run(feeds)).Y!.data as Float32Array;
    expect(sqnr(ref, got)).toBeGreaterThan(40);
  });
});

describe('what runs where, and how fast', () => {
  it('every op the forms write on the transformer is in the probed table, and WASM runs each', async () => {
    const { SUPPORT, supportReport } = await import('../../src/onnx/forms/support');
    expect(SUPPORT.onnxruntimeWeb).toBe(
      JSON.parse(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')).version,
    );
    const missing = new Set<string>();
    for (const row of TRANSFORMER_ROWS) {
      const rows = supportReport(exportForm(transformer, { ...DEFAULT_CONFIG, form: row.form }).model);
      for (const r of rows) missing.add(r.support.wasm === true ? '' : r.key);
    }
    missing.delete('');
    expect([...missing]).toEqual([]);
  });
});

describe('static QDQ beyond int8: 16-bit activations, 4-bit and block-wise weights (opset 21)', () => {
  it('on the transformer: each file loads, runs and agrees with float; int16 beats int8', async () => {
    const { calibrate } = await import('../../src/runtime/calibrate');
    const { buildQdqModel, planQuantization, withExtraOutputs } = await import('../../src/onnx');
    const { calibratedRanges } = await import('../../src/core/calibratedRanges');
    const floatBytes = encodeModel(transformer);
    const ref = await runAll(floatBytes, tokens);
    const plan = planQuantization(transformer, DEFAULT_CONFIG);
    const s = await ort.InferenceSession.create(encodeModel(withExtraOutputs(transformer, plan.activations)));
    const stats = await calibrate(
      ort as never,
      s,
      {
        count: 2,
        feeds: async (k) => ({
          tokens: { type: 'int64', data: tokens[k]!.tensor.data as BigInt64Array, dims: [1, 16] },
        }),
      },
      plan.activations,
    );
    const measure = async (config: typeof DEFAULT_CONFIG) => {
      const q = buildQdqModel(
        transformer,
        planQuantization(transformer, config),
        calibratedRanges(stats, config),
        config,
      );
      return {
        sqnr: sqnr(ref, await runAll(encodeModel(q.model), tokens)),
        opset: Number(q.model.opsetImport[0]!.version),
      };
    };
    const int8 = await measure(DEFAULT_CONFIG);
    const int16 = await measure({ ...DEFAULT_CONFIG, activations: { ...DEFAULT_CONFIG.activations, dtype: 'int16' } });
    const int4 = await measure({ ...DEFAULT_CONFIG, weights: { ...DEFAULT_CONFIG.weights, dtype: 'int4' } });
    const block = await measure({
      ...DEFAULT_CONFIG,
      weights: { ...DEFAULT_CONFIG.weights, dtype: 'int4', blockSize: 32 },
    });
    expect(int8.opset).toBe(17);
    expect([int16.opset, int4.opset, block.opset]).toEqual([21, 21, 21]);
    expect(int16.sqnr).toBeGreaterThan(int8.sqnr);
    expect(int8.sqnr).toBeGreaterThan(15);
    expect(block.sqnr).toBeGreaterThan(int4.sqnr); // blocks of 32 keep more than one int4 scale per channel
    expect(int4.sqnr).toBeGreaterThan(3);
  });
});
