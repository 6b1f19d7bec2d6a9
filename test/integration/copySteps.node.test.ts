/**
 * The copies calibration recomputes instead of fetching (core/copySteps.ts: Concat, nearest Resize at
 * integer scales): on a small built model run in onnxruntime-node, every recomputed tensor, through the
 * WASM kernel's memory and through the JavaScript path, has the bits onnxruntime returned for it
 * (Resize by 2 and 3 on every axis, N and C included; Concat on axes 0, 1, 2 and -1, of fetched and of
 * recomputed tensors); and the Resizes whose index map is not that integer one stay fetched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deriveTensors, forceElementwiseKernel } from '../../src/core/elementwiseKernel';
import type { Float32Tensor } from '../../src/core/elementwise';
import { mulberry32 } from '../../src/core/random';
import { encodeModel, makeNode, makeTensor, withExtraOutputs } from '../../src/onnx';
import { planCalibrationFetches } from '../../src/onnx/derivedTensors';
import { createNodeSession, nodeOrt } from '../../src/runtime/ortNode';
import { buildModel, floatTensor } from '../helpers/models';

afterEach(() => forceElementwiseKernel(null));

const scales = (name: string, s: number[]) => floatTensor(name, [s.length], (i) => s[i]!);
const nearest = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };

function model() {
  const sizes = makeTensor('sizes', 7, [4], new Uint8Array(BigInt64Array.of(1n, 3n, 8n, 10n).buffer));
  return buildModel({
    inputs: [['X', [1, 3, 4, 5]]],
    outputs: [['cat', undefined]],
    inits: [
      scales('s23', [1, 1, 2, 3]),
      scales('s32', [2, 3, 3, 2]),
      scales('s3', [1, 1, 3, 1]),
      scales('half', [1, 1, 1.5, 2]),
      sizes,
    ],
    nodes: [
      makeNode('Relu', ['X'], ['r'], 'relu'),
      // recomputed: integer scales with asymmetric coordinates and nearest_mode floor
      makeNode('Resize', ['r', '', 's23'], ['up23'], 'up23', nearest),
      makeNode('Resize', ['X', '', 's32'], ['up32'], 'up32', nearest),
      makeNode('Resize', ['up23', '', 's3'], ['up3'], 'up3', nearest),
      makeNode('Concat', ['r', 'X'], ['cat0'], 'cat0', { axis: 0 }),
      makeNode('Concat', ['r', 'X', 'r'], ['cat1'], 'cat1', { axis: 1 }),
      makeNode('Concat', ['X', 'r'], ['catLast'], 'catLast', { axis: -1 }),
      makeNode('Concat', ['up23', 'up3', 'up23'], ['cat2'], 'cat2', { axis: 2 }),
      // fetched: half_pixel (the default) and round_prefer_floor, a fractional scale, sizes
      makeNode('Resize', ['r', '', 's23'], ['halfPixel'], 'halfPixel', { mode: 'nearest' }),
      makeNode('Resize', ['r', '', 'half'], ['fractional'], 'fractional', nearest),
      makeNode('Resize', ['r', '', '', 'sizes'], ['bySizes'], 'bySizes', nearest),
      makeNode('Resize', ['r', '', 's23'], ['linear'], 'linear', { ...nearest, mode: 'linear' }),
      makeNode('Concat', ['halfPixel', 'up23'], ['cat'], 'cat', { axis: 1 }),
    ],
  });
}

const NAMES = [
  'X',
  'r',
  'up23',
  'up32',
  'up3',
  'cat0',
  'cat1',
  'catLast',
  'cat2',
  'halfPixel',
  'fractional',
  'bySizes',
  'linear',
  'cat',
];

describe('copies recomputed in the fold (Concat, nearest Resize by integer scales)', () => {
  it('plans the integer upsamplings and the Concats as copies, and fetches the other Resizes', () => {
    const plan = planCalibrationFetches(model(), NAMES);
    expect(plan.fetched).toEqual(['X', 'halfPixel', 'fractional', 'bySizes', 'linear']);
    expect(plan.steps.map((s) => `${s.op} ${s.output}`)).toEqual([
      'Relu r',
      'Resize up23',
      'Resize up32',
      'Resize up3',
      'Concat cat0',
      'Concat cat1',
      'Concat catLast',
      'Concat cat2',
      'Concat cat',
    ]);
    expect(plan.steps.find((s) => s.output === 'up32')!.attrs).toEqual({ scales: [2, 3, 3, 2] });
    expect(plan.steps.find((s) => s.output === 'catLast')!.attrs).toEqual({ axis: -1 });
  });

  it.each([['kernel', null] as const, ['JavaScript', 'js'] as const])(
    'through the %s path: every recomputed tensor has the bits onnxruntime returned',
    async (_, kind) => {
      const m = model();
      const session = await createNodeSession(encodeModel(withExtraOutputs(m, NAMES)));
      const r = mulberry32(16);
      const x = Float32Array.from({ length: 60 }, () => (r() - 0.5) * 8);
      const out = await session.run({ X: new nodeOrt.Tensor('float32', x, [1, 3, 4, 5]) });
      await session.release();
      const plan = planCalibrationFetches(m, NAMES);
      const given: Record<string, Float32Tensor> = {};
      for (const name of plan.fetched) {
        const t = out[name]!;
        given[name] = { data: t.data as Float32Array, dims: t.dims.map(Number) };
      }
      forceElementwiseKernel(kind);
      const made = deriveTensors(plan.steps, given);
      for (const s of plan.steps) {
        const want = out[s.output]!;
        const got = made[s.output]!;
        expect([s.output, got.dims]).toEqual([s.output, want.dims.map(Number)]);
        const a = new Uint32Array(Float32Array.from(got.data).buffer);
        const b = new Uint32Array((want.data as Float32Array).slice().buffer);
        let differ = 0;
        for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) differ++;
        expect([s.output, differ]).toEqual([s.output, 0]);
      }
      // the Resize outputs hold distinct values (a wrong source index changes them)
      expect(new Set(made.up32!.data).size).toBe(60);
    },
  );
});
