/**
 * Equalization, SmoothQuant and bias correction through the engine (runtime/modelAlgorithms.ts), on
 * models built here (test/helpers/algorithmNets.ts) and on PP-OCRv4 det, run in onnxruntime-node:
 *  - equalization leaves the float outputs unchanged (1e-5) and evens the paired ranges; HardSwish
 *    pairs are skipped with the reason; chosen per node and per op type, only the pairs chosen change;
 *  - bias correction zeroes each corrected layer's mean output error on its calibration data.
 * The command line's flags: modelAlgorithms.cli.node.test.ts.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core/config';
import type { ModelProto } from '../../src/onnx';
import { exportForm } from '../../src/onnx/forms';
import { equalizeModel } from '../../src/onnx/passes/equalize';
import { readFloat32 } from '../../src/onnx/tensor';
import type { OrtModule } from '../../src/runtime/ort';
import { correctBiasesFromData, rewriteBeforeCalibration } from '../../src/runtime/modelAlgorithms';
import { biasFeeds, biasNet, equalizeNet, randoms, run, type Feeds } from '../helpers/algorithmNets';
import { outlierBlock } from '../helpers/models';
import { docFeeds, ocrModel } from '../helpers/sample';
import { loadModelSync } from '../../src/state/modelSlice';

describe('cross-layer equalization', () => {
  it('keeps the float outputs within 1e-5, evens each pair’s ranges, and says why HardSwish is skipped', async () => {
    const model = equalizeNet();
    const { model: eq, report } = equalizeModel(model);
    expect(report.pairs.map((p) => `${p.first}-${p.second}:${p.via}`)).toEqual([
      'conv1-conv2:Relu',
      'conv2-conv3:PRelu',
      'gemm1-gemm2:LeakyRelu',
    ]);
    expect(report.skipped).toEqual([
      { first: 'conv3', second: 'conv4', reason: expect.stringMatching(/HardSwish .*not positively homogeneous/) },
    ]);
    expect(report.pairs[0]!.maxRatioBefore).toBeGreaterThan(3);
    const feeds: Feeds = {
      X: { data: randoms(8 * 144, 1), dims: [1, 8, 12, 12] },
      Z: { data: randoms(40, 2), dims: [4, 10] },
    };
    const f = await run(model, feeds);
    const e = await run(eq, feeds);
    for (const k of ['Y', 'V']) {
      const scale = f[k]!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const diff = f[k]!.reduce((m, v, i) => Math.max(m, Math.abs(v - e[k]![i]!)), 0);
      // measured: 1.2e-7 (Y), 6e-8 (V) of the output's range
      expect(diff / scale).toBeLessThan(1e-5);
    }
    // gemm1's output channel ranges equal gemm2's input channel ranges after (both sqrt(r1·r2)); the
    // conv chain's first pair is rescaled again by the second, so the last pair is the one to compare
    const init = (name: string) => readFloat32(eq.graph!.initializer.find((t) => t.name === name)!);
    const node = (name: string) => eq.graph!.node.find((n) => n.name === name)!;
    const g1 = init(node('gemm1').input[1]!);
    const g2 = init(node('gemm2').input[1]!);
    for (let i = 0; i < 12; i++) {
      const r1 = Math.max(...Array.from(g1.subarray(i * 10, (i + 1) * 10), Math.abs));
      const r2 = Math.max(...Array.from(g2.subarray(i * 6, (i + 1) * 6), Math.abs));
      expect(Math.abs(r1 - r2) / r1).toBeLessThan(1e-5);
    }
  });
});

describe('equalization and SmoothQuant chosen per node and per op type', () => {
  const ortModule = ort as unknown as OrtModule;
  const noData = null;
  const inits = (m: ModelProto) =>
    new Map(
      m.graph!.node.flatMap((n) => n.input.slice(1).map((i) => [`${n.name}:${i === n.input[1] ? 'w' : 'b'}`, i])),
    );
  /** Each node's weight (and bias) values by node, to see which ones a rewrite touched. */
  const weightsByNode = (m: ModelProto) => {
    const byName = new Map(m.graph!.initializer.map((t) => [t.name, t]));
    return new Map(
      [...inits(m)].filter(([, i]) => byName.has(i)).map(([k, i]) => [k, Array.from(readFloat32(byName.get(i)!))]),
    );
  };
  const changed = (a: ModelProto, b: ModelProto) => {
    const wa = weightsByNode(a);
    const wb = weightsByNode(b);
    return [...wa.keys()].filter((k) => JSON.stringify(wa.get(k)) !== JSON.stringify(wb.get(k))).sort();
  };

  it('one pair chosen (its first node, conv2): only conv2 and conv3 weights change, the float outputs within 1e-5', async () => {
    const model = equalizeNet();
    const config: QuantConfig = { ...DEFAULT_CONFIG, nodes: { conv2: { weights: { equalize: true } } } };
    const { model: eq, report } = await rewriteBeforeCalibration(ortModule, model, config, noData);
    expect(report.equalization?.pairs.map((p) => `${p.first}-${p.second}`)).toEqual(['conv2-conv3']);
    // the HardSwish pair is not chosen, so it is not reported either
    expect(report.equalization?.skipped).toEqual([]);
    expect(changed(model, eq)).toEqual(['conv2:w', 'conv3:w']);
    const feeds: Feeds = {
      X: { data: randoms(8 * 144, 1), dims: [1, 8, 12, 12] },
      Z: { data: randoms(40, 2), dims: [4, 10] },
    };
    const f = await run(model, feeds);
    const e = await run(eq, feeds);
    const scale = f.Y!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const diff = f.Y!.reduce((m, v, i) => Math.max(m, Math.abs(v - e.Y![i]!)), 0);
    expect(diff / scale).toBeLessThan(1e-5);
    expect(diff).toBeGreaterThan(0); // the pair was really rescaled (float32 rounding shows)
    expect(Array.from(e.V!)).toEqual(Array.from(f.V!));
  });

  it('on for the model, off for Gemm and for conv1: the remaining pair only, the turned-off one reported', async () => {
    const model = equalizeNet();
    const config: QuantConfig = {
      ...DEFAULT_CONFIG,
      algorithms: { equalize: true },
      opTypes: { Gemm: { weights: { equalize: false } } },
      nodes: { conv1: { weights: { equalize: false } } },
    };
    const { model: eq, report } = await rewriteBeforeCalibration(ortModule, model, config, noData);
    expect(report.equalization?.pairs.map((p) => `${p.first}-${p.second}`)).toEqual(['conv2-conv3']);
    expect(report.equalization?.skipped.map((p) => `${p.first}-${p.second}: ${p.reason}`)).toEqual([
      'conv1-conv2: equalization turned off for "conv1" (its node or Conv choice)',
      'conv3-conv4: HardSwish between them is not positively homogeneous (f(s·x) ≠ s·f(x))',
      'gemm1-gemm2: equalization turned off for "gemm1" (its node or Gemm choice)',
    ]);
    expect(changed(model, eq)).toEqual(['conv2:w', 'conv3:w']);
  });

  it('SmoothQuant for one of two MatMuls sharing an input, or per node alpha: a Mul where the fold cannot go', async () => {
    const model = outlierBlock();
    const samples = [0, 1, 2].map((i) => randoms(16 * 32, 500 + i));
    const source = {
      count: samples.length,
      feeds: async (i: number) => ({ X: { type: 'float32' as const, data: samples[i]!, dims: [1, 16, 32] } }),
    };
    const only: QuantConfig = { ...DEFAULT_CONFIG, nodes: { proj_a: { weights: { smoothquant: true } } } };
    const a = await rewriteBeforeCalibration(ortModule, model, only, source);
    expect(a.report.smoothquant?.map((s) => `${s.input} → ${s.nodes.join('/')}: ${s.foldedInto}`)).toEqual([
      'ln → proj_a: Mul',
    ]);
    expect(changed(model, a.model)).toEqual(['proj_a:w']);
    // model-level SmoothQuant (alpha 0.5) with proj_b's own alpha 0.8: each its own scales, so each a Mul;
    // on for the MatMul op type (one alpha): both share s and the LayerNormalization takes 1/s
    const split: QuantConfig = {
      ...DEFAULT_CONFIG,
      algorithms: { smoothquant: { alpha: 0.5 } },
      nodes: { proj_b: { weights: { smoothquantAlpha: 0.8 } } },
    };
    const b = await rewriteBeforeCalibration(ortModule, model, split, source);
    expect(b.report.smoothquant?.map((s) => `${s.input} → ${s.nodes.join('/')}: ${s.foldedInto}`)).toEqual([
      'ln → proj_a: Mul',
      'ln → proj_b: Mul',
    ]);
    const together = await rewriteBeforeCalibration(
      ortModule,
      model,
      { ...DEFAULT_CONFIG, opTypes: { MatMul: { weights: { smoothquant: true } } } },
      source,
    );
    expect(together.report.smoothquant?.map((s) => `${s.input} → ${s.nodes.join('/')}: ${s.foldedInto}`)).toEqual([
      'ln → proj_a/proj_b: LayerNormalization',
    ]);
    const feeds: Feeds = { X: { data: randoms(16 * 32, 600), dims: [1, 16, 32] } };
    const f = await run(model, feeds);
    for (const m of [a.model, b.model]) {
      const y = (await run(m, feeds)).Y!;
      const scale = f.Y!.reduce((acc, v) => Math.max(acc, Math.abs(v)), 0);
      expect(f.Y!.reduce((acc, v, i) => Math.max(acc, Math.abs(v - y[i]!)), 0) / scale).toBeLessThan(1e-5);
    }
    // a node's own alpha out of [0, 1] is refused, naming the node
    const bad: QuantConfig = { ...split, nodes: { proj_a: { weights: { smoothquantAlpha: 1.5 } } } };
    await expect(rewriteBeforeCalibration(ortModule, model, bad, source)).rejects.toMatchObject({
      code: 'BAD_RANGE',
      message: expect.stringContaining('node "proj_a": SmoothQuant alpha 1.5 must be in [0, 1]'),
    });
    // proj_b's weight smoothed with alpha 0.8 differs from the same weight smoothed with 0.5 (together)
    const wb = (m: ModelProto) => weightsByNode(m).get('proj_b:w')!;
    expect(wb(b.model)).not.toEqual(wb(together.model));
  });
});

describe('cross-layer equalization on PP-OCRv4 det', () => {
  it('keeps the float outputs (mean |Δ| below 1e-6) and says why the HardSwish pairs are skipped', async () => {
    const det = loadModelSync('ch_PP-OCRv4_det_infer.onnx', ocrModel('det'), true).prepared;
    const { model: eq, report } = equalizeModel(det);
    // measured: 18 pairs (Relu or nothing between), the HardSwish ones (decomposed by the exporter) skipped
    expect(report.pairs.length).toBe(18);
    expect(report.skipped.length).toBeGreaterThan(10);
    for (const s of report.skipped) expect(s.reason).toMatch(/not one positively homogeneous op/);
    expect(report.skipped.filter((s) => /Add, Mul, Clip, Div/.test(s.reason)).length).toBeGreaterThan(10);
    const x = docFeeds(0).x;
    const feeds: Feeds = { x: { data: x.data as Float32Array, dims: [...x.dims] } };
    const f = (await run(det, feeds))[det.graph!.output[0]!.name]!;
    const e = (await run(eq, feeds))[det.graph!.output[0]!.name]!;
    const scale = f.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const diff = f.reduce((m, v, i) => Math.max(m, Math.abs(v - e[i]!)), 0);
    const mean = f.reduce((acc, v, i) => acc + Math.abs(v - e[i]!), 0) / f.length;
    // measured on document 0: mean |Δ| 5.8e-8 and max 4.6e-5 of the map's range (float32 rounding of the
    // rescaled weights through 62 convolutions; onnxruntime's own graph optimizations move the same
    // output by up to 2.3e-4): 1e-5 holds on average, the max is bounded at 1e-4
    expect(mean).toBeLessThan(1e-6);
    expect(diff / scale).toBeLessThan(1e-4);
  });
});

describe('bias correction', () => {
  const config: QuantConfig = {
    ...DEFAULT_CONFIG,
    form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: null },
    weights: { ...DEFAULT_CONFIG.weights, biasCorrection: true },
  };
  it('zeroes each corrected layer’s mean output error on its calibration data', async () => {
    const model = biasNet();
    const samples = [0, 1, 2, 3].map((i) => biasFeeds(100 + i * 10));
    const source = { count: samples.length, feeds: async (i: number) => samples[i]! };
    const before = exportForm(model, config).model;
    const c = await correctBiasesFromData(ort as unknown as OrtModule, model, config, source, before);
    expect(c.layers.map((l) => l.node)).toEqual(['conv', 'matmul', 'gemm']);
    const after = exportForm(c.model, config).model;
    // the mean error per output channel (last axis for M and G, axis 1 for A), over every sample
    const meanError = async (m: ModelProto) => {
      const sums: Record<string, Float64Array> = {
        A: new Float64Array(16),
        M: new Float64Array(12),
        G: new Float64Array(10),
      };
      const counts: Record<string, number> = { A: 0, M: 0, G: 0 };
      for (const s of samples) {
        const f = await run(model, s);
        const q = await run(m, s);
        for (const k of ['A', 'M', 'G']) {
          const ch = sums[k]!.length;
          for (let i = 0; i < f[k]!.length; i++) {
            const c = k === 'A' ? Math.floor(i / 100) % ch : i % ch;
            sums[k]![c]! += q[k]![i]! - f[k]![i]!;
          }
          counts[k]! += f[k]!.length / ch;
        }
      }
      return Object.fromEntries(
        Object.entries(sums).map(([k, v]) => [k, Math.max(...Array.from(v, (x) => Math.abs(x / counts[k]!)))]),
      );
    };
    const e0 = await meanError(before);
    const e1 = await meanError(after);
    for (const k of ['A', 'M', 'G']) {
      // measured: before 1.41 (A), 0.82 (M), 0.95 (G); after 2e-7..6e-7 (float32 sums)
      expect(e0[k]!).toBeGreaterThan(1e-3);
      expect(e1[k]!).toBeLessThan(1e-5);
    }
    // the MatMul had no bias: an Add carries its correction, and its output keeps its name
    expect(after.graph!.node.some((n) => n.opType === 'Add' && n.output[0] === 'M')).toBe(true);
  });
});
