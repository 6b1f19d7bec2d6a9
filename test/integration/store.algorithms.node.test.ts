/**
 * The page's path (the store, the worker protocol, runtime/algorithmsJob.ts and roundJob.ts on
 * onnxruntime-node) against the command line's, on the same samples: the page's export and
 * `quantscope quantize --recipe <the page's recipe> --data <the same files>` are the same bytes, for
 * SmoothQuant + equalization + bias correction (static QDQ) and for GPTQ (weight-only int4 blocks).
 */
import * as ort from 'onnxruntime-node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32, normalSampler } from '../../src/core/random';
import { encodeModel, makeNode, type ModelProto } from '../../src/onnx';
import type { OrtModule } from '../../src/runtime/ort';
import { createLocalCalibrator } from '../../src/runtime/localCalibrator';
import { createAppStore } from '../../src/state/store';
import { blockConvNet, buildModel, floatTensor, outlierBlock } from '../helpers/models';
import { makeNpy } from '../helpers/npy';
import { runCli as cli } from '../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-page-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randoms(n: number, seed: number): Float32Array {
  const g = normalSampler(mulberry32(seed));
  return Float32Array.from({ length: n }, () => g());
}

/** X[1,16,32] → LayerNormalization (outlier channels) → MatMul + Add → Relu → MatMul → Y. */
function block(): ModelProto {
  const w = (name: string, seed: number, k: number, n: number) => {
    const r = randoms(k * n, seed);
    return floatTensor(name, [k, n], (i) => r[i]! / Math.sqrt(k));
  };
  return buildModel({
    opset: 17,
    ir: 8,
    inputs: [['X', [1, 16, 32]]],
    outputs: [['Y', [1, 16, 8]]],
    inits: [
      floatTensor('gamma', [32], (i) => (i % 8 === 3 ? 30 : 1)),
      floatTensor('beta', [32], (i) => 0.01 * i),
      w('W1', 51, 32, 24),
      floatTensor('B1', [24], (i) => 0.02 * i),
      w('W2', 52, 24, 8),
    ],
    nodes: [
      makeNode('LayerNormalization', ['X', 'gamma', 'beta'], ['ln'], 'ln', { axis: -1, epsilon: 1e-5 }),
      makeNode('MatMul', ['ln', 'W1'], ['h'], 'fc1'),
      makeNode('Add', ['h', 'B1'], ['hb'], 'fc1_bias'),
      makeNode('Relu', ['hb'], ['r'], 'relu'),
      makeNode('MatMul', ['r', 'W2'], ['Y'], 'fc2'),
    ],
  });
}

const store = () => {
  const s = createAppStore(
    createLocalCalibrator(ort as unknown as OrtModule, {
      backend: 'cpu',
      numThreads: 1,
      crossOriginIsolated: false,
      hardwareConcurrency: 2,
    }),
  );
  s.getState().setBackend('cpu');
  return s;
};

/** The page exports; the CLI rebuilds from the page's recipe and the same files; the bytes must agree. */
async function samePageAndCli(
  name: string,
  model: ModelProto,
  files: { name: string; bytes: Uint8Array }[],
  configure: (s: ReturnType<typeof store>) => Promise<void>,
): Promise<{
  exported: NonNullable<Awaited<ReturnType<ReturnType<ReturnType<typeof store>['getState']>['exportModel']>>>;
}> {
  const modelPath = join(dir, `${name}.onnx`);
  writeFileSync(modelPath, encodeModel(model));
  const paths = files.map((f) => {
    const p = join(dir, `${name}-${f.name}`);
    writeFileSync(p, f.bytes);
    return p;
  });
  const s = store();
  s.getState().loadModel(`${name}.onnx`, encodeModel(model));
  await s.getState().loadDataFiles(files.map((f) => ({ name: `${name}-${f.name}`, bytes: f.bytes })));
  await configure(s);
  const exported = await s.getState().exportModel();
  expect(s.getState().exportError?.message ?? null).toBeNull();
  const recipePath = join(dir, `${name}.recipe.json`);
  writeFileSync(recipePath, await s.getState().downloadRecipeText());
  const out = join(dir, `${name}.cli.onnx`);
  const r = await cli('quantize', modelPath, '--recipe', recipePath, '--data', ...paths, '-o', out);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  expect(Buffer.compare(Buffer.from(exported!.bytes), readFileSync(out))).toBe(0);
  return { exported: exported! };
}

describe('the page and the command line write the same bytes', () => {
  it('static QDQ with equalization, SmoothQuant and bias correction, chosen in the page', async () => {
    const files = [0, 1, 2, 3].map((i) => ({
      name: `x${i}.npy`,
      bytes: makeNpy('<f4', [1, 16, 32], randoms(512, 600 + i)),
    }));
    const { exported } = await samePageAndCli('block', block(), files, async (s) => {
      await s.getState().calibrate();
      s.getState().setConfig((c) => ({
        ...c,
        algorithms: { equalize: true, smoothquant: { alpha: 0.5 } },
        weights: { ...c.weights, biasCorrection: true },
      }));
    });
    expect(exported.algorithms?.smoothquant?.map((x) => x.foldedInto)).toEqual(['LayerNormalization']);
    expect(exported.algorithms?.biasCorrection?.map((b) => b.node)).toEqual(['fc1', 'fc2']);
    // fc2 had no bias: the Add inserted after it takes the correction, and its MatMul's renamed output
    // keeps the original's range (quantized, not left float)
    expect(exported.report!.floatTensors.map((t) => t.tensor)).not.toContain('Y_uncorrected');
    expect(exported.config.algorithms).toEqual({ equalize: true, smoothquant: { alpha: 0.5 } });
  });

  it('equalization chosen for one node (the Weights tab), static QDQ: the recipe carries it, the CLI agrees', async () => {
    const files = [0, 1].map((i) => ({
      name: `e${i}.npy`,
      bytes: makeNpy('<f4', [1, 32, 10, 10], randoms(3200, 720 + i)),
    }));
    const { exported } = await samePageAndCli('eqnode', blockConvNet(), files, async (s) => {
      await s.getState().calibrate();
      // what the Weights tab's select dispatches (ui/AlgorithmOverrides.tsx NodeAlgorithms)
      s.getState().editConfig({ kind: 'node', node: 'conv1', weights: { equalize: true } });
    });
    expect(exported.algorithms?.equalization?.pairs.map((p) => `${p.first}-${p.second}`)).toEqual(['conv1-conv2']);
    expect(exported.config.nodes?.conv1?.weights).toEqual({ equalize: true });
    expect(exported.config.algorithms?.equalize).toBeUndefined();
  });

  it('SmoothQuant per op type with one node’s own alpha (the Choices table, the Weights tab)', async () => {
    const files = [0, 1, 2].map((i) => ({
      name: `s${i}.npy`,
      bytes: makeNpy('<f4', [1, 16, 32], randoms(512, 740 + i)),
    }));
    const { exported } = await samePageAndCli('sqnode', outlierBlock(), files, async (s) => {
      await s.getState().calibrate();
      s.getState().editConfig({ kind: 'op-type', opType: 'MatMul', set: { weights: { smoothquant: true } } });
      s.getState().editConfig({ kind: 'node', node: 'proj_b', weights: { smoothquantAlpha: 0.8 } });
    });
    expect(exported.algorithms?.smoothquant?.map((x) => `${x.nodes.join('/')}:${x.foldedInto}`)).toEqual([
      'proj_a:Mul',
      'proj_b:Mul',
    ]);
    expect(exported.config.opTypes?.MatMul?.weights).toEqual({ smoothquant: true });
    expect(exported.config.nodes?.proj_b?.weights).toEqual({ smoothquantAlpha: 0.8 });
  });

  it('GPTQ and AdaRound chosen per op type (the Choices table), weight-only int4 blocks of 16', async () => {
    const files = [0, 1, 2].map((i) => ({
      name: `c${i}.npy`,
      bytes: makeNpy('<f4', [1, 32, 10, 10], randoms(3200, 700 + i)),
    }));
    const { exported } = await samePageAndCli('convnet', blockConvNet(), files, async (s) => {
      s.getState().setConfig((c) => ({
        ...c,
        form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 16 },
        algorithms: { adaround: { iterations: 40 } },
      }));
      // what the Choices table's per-op-type rounding selects dispatch (ui/RoundingOptions.tsx OpTypeRounding)
      s.getState().editConfig({ kind: 'op-type', opType: 'Conv', set: { weights: { algorithm: 'gptq' } } });
      s.getState().editConfig({ kind: 'op-type', opType: 'MatMul', set: { weights: { algorithm: 'adaround' } } });
    });
    expect(exported.rounding?.layers.map((l) => `${l.node}:${l.algorithm}`).sort()).toEqual([
      'conv1:gptq',
      'conv2:gptq',
      'mm:adaround',
    ]);
    expect(exported.config.opTypes?.Conv?.weights?.algorithm).toBe('gptq');
  });
});
