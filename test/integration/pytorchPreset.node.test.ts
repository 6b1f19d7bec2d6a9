/**
 * `quantscope quantize --preset fbgemm|x86|qnnpack` on the textbook eager PyTorch example, against
 * PyTorch 1.13 run on the same model and data (scripts/pytorch-fixtures.py → test/fixtures/pytorch):
 * every zero point equal; every weight's scale and code, and every scale from PyTorch's own observed
 * tensors, exact; scales from onnxruntime's float run of the model within 4 float32 ulps (its Gemm rounds
 * differently from PyTorch's Linear); the
 * pairs where eager PyTorch observes (the stub's input, each Linear's output before the ReLU, the
 * model's output), the recipe reproducing the bytes, and the export run in onnxruntime-node giving
 * PyTorch's quantized model's outputs.
 */
import * as ort from 'onnxruntime-node';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { calibratedRanges } from '../../src/core/calibratedRanges';
import { producerOpTypes } from '../../src/onnx';
import { main } from '../../src/cli/main';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { quantParams } from '../../src/core/conventions';
import { applyPreset, presetOf } from '../../src/core/presets';
import { decodeModel, encodeModel, makeNode, readFloat32, type ModelProto, type TensorProto } from '../../src/onnx';
import { calibrate } from '../../src/runtime/calibrate';
import type { OrtModule } from '../../src/runtime/ort';
import { buildModel } from '../helpers/models';
import { loadPytorchFixture, PYTORCH_FIXTURES } from '../helpers/pytorchFixture';
import { ROOT } from '../helpers/sample';
import { nodePageStore } from '../helpers/store';

const fx = loadPytorchFixture();
const MODEL = join(PYTORCH_FIXTURES, fx.model);
const CALIB = join(PYTORCH_FIXTURES, 'calib');
const dir = mkdtempSync(join(tmpdir(), 'quantscope-pytorch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ONNX tensor each eager observer stands for (torch.onnx.export's names). */
const OBSERVED: Record<string, string> = {
  'quant.activation_post_process': 'input',
  'fc1.activation_post_process': '/fc1/Gemm_output_0',
  'fc2.activation_post_process': 'output',
};

interface Case {
  readonly label: string;
  readonly fx: ReturnType<typeof loadPytorchFixture>;
  readonly calib: string;
  readonly observed: Record<string, string>;
  readonly weights: Record<string, string>;
  /** Tensors quantized with another's parameters (ops whose quantized form keeps them). */
  readonly followers: Record<string, string>;
  readonly outputObserver: string;
  /** Measured float32 ulps between an onnxruntime-computed tensor's scale and PyTorch's. */
  readonly ulps: number;
}

const CASES: readonly Case[] = [
  {
    label: 'Linear-ReLU-Linear',
    fx,
    calib: CALIB,
    observed: OBSERVED,
    weights: { fc1: '/fc1/Gemm', fc2: '/fc2/Gemm' },
    followers: { '/relu/Relu_output_0': '/fc1/Gemm_output_0' },
    outputObserver: 'fc2.activation_post_process',
    ulps: 4,
  },
  {
    label: 'Conv-ReLU-MaxPool-AvgPool-Flatten-Linear',
    fx: loadPytorchFixture('observers-conv.json'),
    calib: join(PYTORCH_FIXTURES, 'calib-conv'),
    observed: {
      'quant.activation_post_process': 'input',
      'conv.activation_post_process': '/conv/Conv_output_0',
      'fc.activation_post_process': 'output',
    },
    weights: { conv: '/conv/Conv', fc: '/fc/Gemm' },
    followers: {
      '/relu/Relu_output_0': '/conv/Conv_output_0',
      '/pool/MaxPool_output_0': '/conv/Conv_output_0',
      '/gap/GlobalAveragePool_output_0': '/conv/Conv_output_0',
      '/Flatten_output_0': '/conv/Conv_output_0',
    },
    outputObserver: 'fc.activation_post_process',
    ulps: 2,
  },
];

/** Distance in float32 ulps (both finite, same sign). */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  return Math.abs(i[0]! - i[1]!);
}

function scalar(t: TensorProto): number {
  return t.dataType === 1 ? readFloat32(t)[0]! : intsOf(t)[0]!;
}

function intsOf(t: TensorProto): number[] {
  const b = t.rawData;
  if (t.dataType === 2) return Array.from(b);
  if (t.dataType === 3) return Array.from(new Int8Array(b.buffer, b.byteOffset, b.length));
  throw new Error(`dtype ${t.dataType}`);
}

/** tensor → [scale, zero point] of the QuantizeLinear that quantizes it. */
function activationParams(m: ModelProto): Map<string, [number, number]> {
  const inits = new Map(m.graph!.initializer.map((t) => [t.name, t]));
  const out = new Map<string, [number, number]>();
  for (const n of m.graph!.node) {
    if (n.opType !== 'QuantizeLinear') continue;
    const t = n.name.replace(/_QuantizeLinear$/, '');
    out.set(t, [scalar(inits.get(n.input[1]!)!), scalar(inits.get(n.input[2]!)!)]);
  }
  return out;
}

function weightParams(m: ModelProto, node: string): { scales: number[]; zeroPoints: number[]; codes: number[] } {
  const g = m.graph!;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const gemm = g.node.find((n) => n.name === node)!;
  const dq = g.node.find((n) => n.output[0] === gemm.input[1])!;
  return {
    scales: Array.from(readFloat32(inits.get(dq.input[1]!)!)),
    zeroPoints: intsOf(inits.get(dq.input[2]!)!),
    codes: intsOf(inits.get(dq.input[0]!)!),
  };
}

async function quantize(backend: string, ...extra: string[]): Promise<{ path: string; model: ModelProto }> {
  return quantizeCase(CASES[0]!, backend, ...extra);
}

async function quantizeCase(
  c: Case,
  backend: string,
  ...extra: string[]
): Promise<{ path: string; model: ModelProto }> {
  const o = extra.indexOf('-o');
  const path = o >= 0 ? extra.splice(o, 2)[1]! : join(dir, `${c.fx.model}.${backend}.onnx`);
  const model = join(PYTORCH_FIXTURES, c.fx.model);
  const code = await main(['quantize', model, '--preset', backend, '--data', c.calib, '-o', path, ...extra]);
  expect(code).toBe(0);
  return { path, model: decodeModel(new Uint8Array(readFileSync(path)), path) };
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('--preset against PyTorch 1.13 (fixtures made once with python3-torch)', () => {
  for (const c of CASES)
    for (const backend of ['fbgemm', 'x86', 'qnnpack'] as const) {
      const b = c.fx.backends[backend];
      it(`${c.label}, ${backend}: every observer's zero point and scale (the input's exact, onnxruntime-computed ones within 4 ulps), every weight's exactly; pairs where eager PyTorch observes`, async () => {
        const recipe = join(dir, `${c.fx.model}.${backend}.recipe.json`);
        const { path, model } = await quantizeCase(c, backend, '--write-recipe', recipe);
        const params = activationParams(model);
        // the observed tensors, and the outputs of ops whose quantized form keeps its input's parameters
        expect([...params.keys()].sort()).toEqual([...Object.values(c.observed), ...Object.keys(c.followers)].sort());
        for (const [y, t] of Object.entries(c.followers)) expect(params.get(y), y).toEqual(params.get(t));
        for (const [obs, tensor] of Object.entries(c.observed)) {
          const want = b.activations[obs]!;
          const [scale, zp] = params.get(tensor)!;
          // the stub's input is the data itself: exact. The Linear/Conv outputs are onnxruntime's float
          // Gemm/Conv, which round differently from PyTorch's (97 of the 1000 fc1 values differ in the
          // last bits), and the observer's range grows from those values: measured 2 ulps (fc1, conv), 4
          // (fc2) and 1 (fc). On PyTorch's own tensors the same engine is exact (the test below).
          const bound = tensor === 'input' ? 0 : c.ulps;
          expect(ulps(scale, want.scale), `${obs} scale ${scale} vs ${want.scale}`).toBeLessThanOrEqual(bound);
          expect(zp, `${obs} zero point`).toBe(want.zeroPoint);
        }
        for (const [mod, node] of Object.entries(c.weights)) {
          const want = b.weights[mod]!;
          const got = weightParams(model, node);
          expect(got.scales, `${mod} scales`).toEqual(want.scales);
          expect(got.zeroPoints).toEqual(want.zeroPoints);
          expect(got.codes, `${mod} int8 codes`).toEqual(want.codes);
        }
        // the recipe records every choice: it rebuilds the same bytes without calibrating
        const again = join(dir, `${c.fx.model}.${backend}.again.onnx`);
        const modelPath = join(PYTORCH_FIXTURES, c.fx.model);
        expect(await main(['quantize', modelPath, '--recipe', recipe, '-o', again])).toBe(0);
        expect(sha(again)).toBe(sha(path));
      });

      it(`${c.label}, ${backend}: the export in onnxruntime-node gives PyTorch's quantized model's outputs`, async () => {
        const { path } = await quantizeCase(c, backend, '-o', join(dir, `${c.fx.model}.${backend}.run.onnx`));
        const session = await ort.InferenceSession.create(readFileSync(path));
        const outScale = b.activations[c.outputObserver]!.scale;
        let worst = 0;
        try {
          for (let i = 0; i < c.fx.heldOut.length; i++) {
            const x = new ort.Tensor('float32', Float32Array.from(c.fx.heldOut[i]!), c.fx.inputShape);
            const y = (await session.run({ input: x })).output!.data as Float32Array;
            const want = b.quantizedOutputs[i]!;
            for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(y[j]! - want[j]!) / outScale);
          }
        } finally {
          await session.release();
        }
        // both sides are quantized outputs on (nearly) the same grid: the same codes give values a few
        // ulps of the scale apart. PyTorch adds a float bias in its kernel (the QDQ file: int32 at s_x·s_w)
        // and rounds x·(1/s) where ONNX rounds x/s, so a value at a rounding boundary could land one step
        // away. Measured on the 8 held-out samples: 0 steps on the MLP (every backend) and on the conv
        // net with qnnpack; 1 step on the conv net where onednn's kernels ran PyTorch's fbgemm/x86 model.
        expect(worst).toBeLessThanOrEqual(1 + 1e-4);
        console.log(`${backend}: worst |onnxruntime - PyTorch int8| (${c.label}) = ${worst.toFixed(3)} output steps`);
      });
    }

  it("the engine on the tensors PyTorch's observers saw: every scale exact, one observer call a sample", async () => {
    // an identity model whose inputs are the three observed tensors: onnxruntime hands them back
    // untouched, so calibration (runtime/calibrate) and the ranges (cli/calibration) see PyTorch's values
    const names = Object.keys(OBSERVED);
    const dims = names.map((n) => [1, fx.observerInputs[n]![0]!.length]);
    const model = buildModel({
      nodes: names.map((_, i) => makeNode('Identity', [`x${i}`], [`y${i}`], `id${i}`)),
      inputs: names.map((_, i) => [`x${i}`, dims[i]!]),
      outputs: names.map((_, i) => [`y${i}`, dims[i]!]),
    });
    const session = await ort.InferenceSession.create(encodeModel(model));
    const stats = await calibrate(
      ort as unknown as OrtModule,
      session,
      {
        count: fx.calibration.length,
        feeds: async (k) =>
          Object.fromEntries(
            names.map((n, i) => [`x${i}`, { data: Float32Array.from(fx.observerInputs[n]![k]!), dims: dims[i]! }]),
          ),
      },
      names.map((_, i) => `y${i}`),
      { torchHistograms: true },
    );
    await session.release();
    for (const backend of ['fbgemm', 'x86', 'qnnpack'] as const) {
      const config = applyPreset(DEFAULT_CONFIG, backend);
      const producers = producerOpTypes(model);
      const ranges = calibratedRanges(stats, config, (t) => producers.get(t));
      names.forEach((n, i) => {
        const want = fx.backends[backend].activations[n]!;
        const r = ranges.get(`y${i}`)!;
        expect(stats[`y${i}`]!.torchHistogram!.calls).toBe(fx.calibration.length);
        expect([r.rmin, r.rmax]).toEqual(want.searched);
        const p = quantParams(r.rmin, r.rmax, 'uint8', config.activations);
        expect([p.scale, p.zeroPoint], `${backend} ${n}`).toEqual([want.scale, want.zeroPoint]);
      });
    }
  });

  it('quantscope quantize --preset fbgemm, as a user runs it, writes the same bytes', async () => {
    const out = join(dir, 'cli.onnx');
    const r = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'bin', 'quantscope.mjs'), 'quantize', MODEL, '--preset', 'fbgemm', '--data', CALIB, '-o', out],
      { cwd: ROOT, timeout: 120_000 },
    );
    expect(r.stdout).toMatch(/static QDQ/);
    const { path } = await quantize('fbgemm', '-o', join(dir, 'in-process.onnx'));
    expect(sha(out)).toBe(sha(path));
  });

  it("the page's engine (the store, as the page drives it, with the preset menu's choice) writes the CLI's bytes", async () => {
    const store = nodePageStore();
    await store.getState().loadDataFiles(
      fx.calibration.map((f) => ({
        name: f.split('/').pop()!,
        bytes: new Uint8Array(readFileSync(join(PYTORCH_FIXTURES, f))),
      })),
    );
    store.getState().loadModel(fx.model, new Uint8Array(readFileSync(MODEL)));
    store.getState().setConfig((c) => applyPreset(c, 'qnnpack'));
    expect(presetOf(store.getState().config)).toBe('qnnpack');
    await store.getState().calibrate();
    expect(store.getState().calibration.status).toBe('done');
    const exported = (await store.getState().exportModel())!;
    const { path } = await quantize('qnnpack', '-o', join(dir, 'page-vs-cli.onnx'));
    expect(createHash('sha256').update(exported.bytes).digest('hex')).toBe(sha(path));
  });

  it('the observer sees each sample once whatever the statistics mode: onnxruntime-exact writes the same bytes', async () => {
    const streaming = await quantize('x86', '-o', join(dir, 'streaming.onnx'));
    const exact = await quantize('x86', '-o', join(dir, 'exact.onnx'), '--mode', 'onnxruntime-exact');
    expect(sha(exact.path)).toBe(sha(streaming.path));
  });

  it('a preset and a flag it sets are refused together (exit 2), as is an unknown preset', async () => {
    const out = join(dir, 'bad.onnx');
    expect(
      await main(['quantize', MODEL, '--preset', 'fbgemm', '--method', 'minmax', '--data', CALIB, '-o', out]),
    ).toBe(2);
    expect(await main(['quantize', MODEL, '--preset', 'tensorrt', '--data', CALIB, '-o', out])).toBe(2);
  });
});
