/**
 * The copies calibration recomputes instead of fetching (core/copySteps.ts: Concat, nearest Resize at
 * integer scales): on a small built model run in onnxruntime-node, every recomputed tensor, through the
 * WASM kernel's memory and through the JavaScript path, has the bits onnxruntime returned for it
 * (Resize by 2 and 3 on every axis, N and C included, in each coordinate/rounding pair that reads
 * floor(out / s), by scales or by sizes over a static shape; Concat on axes 0, 1, 2 and -1, of fetched
 * and of recomputed tensors); and the Resizes whose index map is another stay fetched (and differ from
 * the copy).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyCopy } from '../../src/core/copySteps';
import { deriveTensors, forceElementwiseKernel } from '../../src/core/elementwiseKernel';
import type { Float32Tensor } from '../../src/core/elementwise';
import { mulberry32 } from '../../src/core/random';
import { encodeModel, makeAttribute, makeNode, makeTensor, withExtraOutputs, type ModelProto } from '../../src/onnx';
import { planCalibrationFetches } from '../../src/onnx/derivedTensors';
import { createNodeSession, nodeOrt } from '../../src/runtime/ortNode';
import { buildModel, floatTensor } from '../helpers/models';

afterEach(() => forceElementwiseKernel(null));

const scales = (name: string, s: number[]) => floatTensor(name, [s.length], (i) => s[i]!);
const int64s = (name: string, v: number[]) =>
  makeTensor(name, 7, [v.length], new Uint8Array(BigInt64Array.from(v, BigInt).buffer));
const nearest = (coordinate_transformation_mode: string, nearest_mode: string) => ({
  mode: 'nearest',
  coordinate_transformation_mode,
  nearest_mode,
});
const floor = nearest('asymmetric', 'floor');

/** The Resizes that stay fetched, with integer scales: their index map is not floor(out / s). */
const OTHER_MAPS = [
  ['asymmetric', 'round_prefer_floor'],
  ['asymmetric', 'ceil'],
  ['half_pixel', 'floor'],
  ['tf_half_pixel_for_nn', 'round_prefer_ceil'],
  ['align_corners', 'round_prefer_floor'],
] as const;

function model(inputDims: (number | string)[] = [1, 3, 4, 5]) {
  return buildModel({
    inputs: [['X', inputDims]],
    outputs: [['cat', undefined]],
    inits: [
      scales('s23', [1, 1, 2, 3]),
      scales('s32', [2, 3, 3, 2]),
      scales('s3', [1, 1, 3, 1]),
      scales('half', [1, 1, 1.5, 2]),
      int64s('sizes', [1, 3, 8, 10]),
      int64s('sizes12', [1, 3, 8, 12]),
    ],
    nodes: [
      makeNode('Relu', ['X'], ['r'], 'relu'),
      // recomputed: integer scales with a coordinate convention and rounding that read floor(out / s)
      makeNode('Resize', ['r', '', 's23'], ['up23'], 'up23', floor),
      makeNode('Resize', ['X', '', 's32'], ['up32'], 'up32', floor),
      makeNode('Resize', ['up23', '', 's3'], ['up3'], 'up3', floor),
      makeNode('Resize', ['r', '', 's32'], ['halfPixel'], 'halfPixel', { mode: 'nearest' }), // the defaults
      makeNode('Resize', ['r', '', 's23'], ['halfCeil'], 'halfCeil', nearest('half_pixel', 'round_prefer_ceil')),
      makeNode('Resize', ['r', '', 's32'], ['torch'], 'torch', nearest('pytorch_half_pixel', 'round_prefer_floor')),
      makeNode('Resize', ['X', '', 's23'], ['tfNN'], 'tfNN', nearest('tf_half_pixel_for_nn', 'floor')),
      makeNode('Resize', ['r', '', '', 'sizes'], ['bySizes'], 'bySizes', floor),
      makeNode('Concat', ['r', 'X'], ['cat0'], 'cat0', { axis: 0 }),
      makeNode('Concat', ['r', 'X', 'r'], ['cat1'], 'cat1', { axis: 1 }),
      makeNode('Concat', ['X', 'r'], ['catLast'], 'catLast', { axis: -1 }),
      makeNode('Concat', ['up23', 'up3', 'up23'], ['cat2'], 'cat2', { axis: 2 }),
      // fetched: the other index maps, a fractional scale, sizes no multiple of the shape, linear
      ...OTHER_MAPS.map(([c, r]) => makeNode('Resize', ['r', '', 's23'], [`${c} ${r}`], `${c} ${r}`, nearest(c, r))),
      makeNode('Resize', ['r', '', 'half'], ['fractional'], 'fractional', floor),
      makeNode('Resize', ['r', '', '', 'sizes12'], ['notMultiple'], 'notMultiple', floor),
      makeNode('Resize', ['r', '', 's23'], ['linear'], 'linear', { ...floor, mode: 'linear' }),
      makeNode('Concat', ['linear', 'up23'], ['cat'], 'cat', { axis: 1 }),
    ],
  });
}

const RECOMPUTED = [
  'r',
  'up23',
  'up32',
  'up3',
  'halfPixel',
  'halfCeil',
  'torch',
  'tfNN',
  'bySizes',
  'cat0',
  'cat1',
  'catLast',
  'cat2',
];
const FETCHED = ['X', ...OTHER_MAPS.map(([c, r]) => `${c} ${r}`), 'fractional', 'notMultiple', 'linear'];
const NAMES = [...FETCHED, ...RECOMPUTED, 'cat'];

describe('copies recomputed in the fold (Concat, nearest Resize by integer scales)', () => {
  it('plans the integer upsamplings and the Concats as copies, and fetches the other Resizes', () => {
    const plan = planCalibrationFetches(model(), NAMES);
    expect(plan.fetched).toEqual(FETCHED);
    expect(plan.steps.map((s) => s.output)).toEqual([...RECOMPUTED, 'cat']);
    expect(plan.steps.find((s) => s.output === 'up32')!.attrs).toEqual({ scales: [2, 3, 3, 2] });
    expect(plan.steps.find((s) => s.output === 'bySizes')!.attrs).toEqual({ scales: [1, 1, 2, 2] });
    expect(plan.steps.find((s) => s.output === 'catLast')!.attrs).toEqual({ axis: -1 });
    // sizes over an input whose shape is known only when it runs: fetched
    expect(planCalibrationFetches(model(['N', 3, 4, 5]), NAMES).fetched).toEqual(['X', 'bySizes', ...FETCHED.slice(1)]);
  });

  it.each([['kernel', null] as const, ['JavaScript', 'js'] as const])(
    'through the %s path: every recomputed tensor has the bits onnxruntime returned',
    async (_, kind) => {
      const { out, made } = await expectOnnxruntimeBits(model(), NAMES, kind);
      // the Resize outputs hold distinct values (a wrong source index changes them)
      expect(new Set(made.up32!.data).size).toBe(60);
      // and the maps left fetched are not this copy: each differs from onnxruntime's output somewhere
      const relu = { data: out.r!.data as Float32Array, dims: [1, 3, 4, 5] };
      for (const [c, m] of OTHER_MAPS) {
        const copy = applyCopy('Resize', [relu], { scales: [1, 1, 2, 3] }).data;
        const want = out[`${c} ${m}`]!.data as Float32Array;
        expect([c, m, copy.some((v, k) => !Object.is(v, want[k]))]).toEqual([c, m, true]);
      }
    },
  );

  // Upsample-7's scales are an attribute (floats); Upsample-9 and Resize-10 read them as input 1
  const upsample7 = (y: string, s: number[]) => {
    const n = makeNode('Upsample', ['r'], [y], y);
    n.attribute.push(makeAttribute('scales', s, 'float'));
    return n;
  };
  it.each([
    ['Upsample-7', 7, upsample7],
    ['Upsample-9', 9, (y: string) => makeNode('Upsample', ['r', `s${y}`], [y], y)],
    ['Resize-10', 10, (y: string) => makeNode('Resize', ['r', `s${y}`], [y], y)],
  ] as const)('%s, nearest: recomputed with the bits onnxruntime returned', async (_, opset, node) => {
    const S = { a: [1, 1, 2, 3], b: [2, 3, 3, 2] };
    const m = buildModel({
      opset,
      inputs: [['X', [1, 3, 4, 5]]],
      outputs: [['a', undefined]],
      inits: opset < 9 ? [] : [scales('sa', S.a), scales('sb', S.b)],
      nodes: [makeNode('Relu', ['X'], ['r'], 'relu'), node('a', S.a), node('b', S.b)],
    });
    const plan = planCalibrationFetches(m, ['X', 'r', 'a', 'b']);
    expect([plan.fetched, plan.steps.map((s) => s.attrs)]).toEqual([['X'], [{}, { scales: S.a }, { scales: S.b }]]);
    await expectOnnxruntimeBits(m, ['X', 'r', 'a', 'b'], null);
  });
});

/** Each step of `m`'s plan for `names` against onnxruntime-node's output, bit for bit. */
async function expectOnnxruntimeBits(m: ModelProto, names: readonly string[], kind: 'js' | null) {
  const session = await createNodeSession(encodeModel(withExtraOutputs(m, names)));
  const r = mulberry32(16);
  const x = Float32Array.from({ length: 60 }, () => (r() - 0.5) * 8);
  const out = await session.run({ X: new nodeOrt.Tensor('float32', x, [1, 3, 4, 5]) });
  await session.release();
  const plan = planCalibrationFetches(m, names);
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
  return { out, made };
}
