/**
 * The ops calibration recomputes instead of fetching: the WASM SIMD kernel against the JavaScript
 * loops bit for bit (NaN, ±0, ±Infinity, subnormals, lengths that leave a tail, broadcasts by scalar,
 * by run and by index), the JavaScript loops against float64 arithmetic rounded once, and the plan
 * of what a calibration fetches.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { applyElementwise, type ElementwiseStep, type Float32Tensor } from '../../src/core/elementwise';
import {
  deriveTensors,
  elementwiseKernelKind,
  forceElementwiseKernel,
  releaseElementwiseKernel,
} from '../../src/core/elementwiseKernel';
import { mulberry32 } from '../../src/core/random';
import { makeNode, makeTensor, bytesOf } from '../../src/onnx';
import { planCalibrationFetches } from '../../src/onnx/derivedTensors';
import { buildModel, floatTensor } from '../helpers/models';

afterEach(() => forceElementwiseKernel(null));

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1e-45, -1e-45, 3.4e38, -3.4e38, 6, 3, -3, 1, 0.5];

function values(seed: number, n: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () =>
    r() < 0.15 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : (r() - 0.5) * 10 ** (r() * 8 - 4),
  );
}

const tensor = (seed: number, dims: number[]): Float32Tensor => ({
  data: values(
    seed,
    dims.reduce((p, d) => p * d, 1),
  ),
  dims,
});

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Every step through the kernel and through the JavaScript loops: the same bits (NaN payloads aside). */
function bothWays(steps: ElementwiseStep[], given: Record<string, Float32Tensor>) {
  forceElementwiseKernel(null);
  const kernel = deriveTensors(steps, given);
  const copied = Object.fromEntries(Object.entries(kernel).map(([k, t]) => [k, Float32Array.from(t.data)]));
  forceElementwiseKernel('js');
  const js = deriveTensors(steps, given);
  for (const s of steps) {
    const a = copied[s.output]!;
    const b = js[s.output]!.data;
    expect(a.length).toBe(b.length);
    for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) expect([s.op, k, a[k], b[k]]).toEqual([]);
    expect(kernel[s.output]!.dims).toEqual(js[s.output]!.dims);
  }
}

describe('elementwise kernel', () => {
  it('loads here (WASM SIMD)', () => expect(elementwiseKernelKind()).toBe('wasm-simd'));

  it('equals the JavaScript loops bit for bit, every op and broadcast', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 11 }),
        (seed, c, h, w) => {
          const C = c + 1;
          const x = tensor(seed, [1, C, h, w]);
          const y = tensor(seed + 1, [1, C, h, w]);
          const perChannel = tensor(seed + 2, [1, C, 1, 1]);
          const perRow = tensor(seed + 3, [1, 1, h, 1]); // a broadcast no run covers: by index
          const scalar = tensor(seed + 4, []);
          const steps: ElementwiseStep[] = [];
          for (const op of ['Add', 'Sub', 'Mul', 'Div'] as const) {
            steps.push({ output: `${op}-same`, op, inputs: ['x', 'y'], attrs: {} });
            steps.push({ output: `${op}-scalar`, op, inputs: ['x', scalar], attrs: {} });
            steps.push({ output: `${op}-scalar-first`, op, inputs: [scalar, 'x'], attrs: {} });
            steps.push({ output: `${op}-channel`, op, inputs: ['x', perChannel], attrs: {} });
            steps.push({ output: `${op}-channel-first`, op, inputs: [perChannel, 'x'], attrs: {} });
            steps.push({ output: `${op}-row`, op, inputs: ['x', perRow], attrs: {} });
          }
          steps.push({ output: 'relu', op: 'Relu', inputs: ['x'], attrs: {} });
          steps.push({ output: 'clip', op: 'Clip', inputs: ['x'], attrs: { min: 0, max: 6 } });
          steps.push({ output: 'clip-open', op: 'Clip', inputs: ['relu'], attrs: { min: -1 } });
          steps.push({ output: 'hs', op: 'HardSigmoid', inputs: ['x'], attrs: { alpha: 0.2, beta: 0.5 } });
          // a chain: hard-swish's tail, each step reading the one before
          steps.push({
            output: 'hsw-add',
            op: 'Add',
            inputs: ['x', { data: Float32Array.of(3), dims: [] }],
            attrs: {},
          });
          steps.push({ output: 'hsw-clip', op: 'Clip', inputs: ['hsw-add'], attrs: { min: 0, max: 6 } });
          steps.push({
            output: 'hsw-div',
            op: 'Div',
            inputs: ['hsw-clip', { data: Float32Array.of(6), dims: [] }],
            attrs: {},
          });
          steps.push({ output: 'hsw', op: 'Mul', inputs: ['x', 'hsw-div'], attrs: {} });
          bothWays(steps, { x, y });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the JavaScript loops are float32 arithmetic: float64 results rounded once', () => {
    const x = tensor(7, [257]);
    const y = tensor(8, [257]);
    const f = Math.fround;
    const ops = {
      Add: (a: number, b: number) => a + b,
      Sub: (a: number, b: number) => a - b,
      Mul: (a: number, b: number) => a * b,
      Div: (a: number, b: number) => a / b,
    };
    for (const [op, g] of Object.entries(ops)) {
      const r = applyElementwise(op as 'Add', [x, y]).data;
      for (let k = 0; k < 257; k++) expect(Object.is(r[k], f(g(x.data[k]!, y.data[k]!)))).toBe(true);
    }
    // HardSigmoid: alpha·x and + beta rounded apart (no fused multiply-add), then the bounds
    const hs = applyElementwise('HardSigmoid', [x], { alpha: 0.2, beta: 0.5 }).data;
    for (let k = 0; k < 257; k++) {
      let v = f(f(f(0.2) * x.data[k]!) + 0.5);
      if (1 < v) v = 1;
      if (v < 0) v = 0;
      expect(Object.is(hs[k], v)).toBe(true);
    }
  });

  it('gives its memory back when released (a WebAssembly memory never shrinks on its own)', () => {
    const big = { data: new Float32Array(1 << 20), dims: [1 << 20] };
    const step = (input: string): ElementwiseStep => ({ output: 'r', op: 'Relu', inputs: [input], attrs: {} });
    const grown = deriveTensors([step('x')], { x: big }).r!.data.buffer.byteLength;
    expect(grown).toBeGreaterThanOrEqual(8 << 20); // the input and its result
    const tiny = { data: Float32Array.of(-1, 2), dims: [2] };
    expect(deriveTensors([step('x')], { x: tiny }).r!.data.buffer.byteLength).toBe(grown); // kept while in use
    releaseElementwiseKernel();
    const again = deriveTensors([step('x')], { x: tiny }).r!;
    expect(again.data.buffer.byteLength).toBeLessThan(1 << 20);
    expect(Array.from(again.data)).toEqual([0, 2]);
  });

  it('a broken kernel op fails the comparison', () => {
    // Sub with its operands swapped is what a wrong opcode would do: the comparison must notice
    const x = tensor(11, [1, 2, 3, 5]);
    const y = tensor(12, [1, 2, 3, 5]);
    forceElementwiseKernel(null);
    const kernel = Float32Array.from(
      deriveTensors([{ output: 's', op: 'Sub', inputs: ['y', 'x'], attrs: {} }], { x, y }).s!.data,
    );
    forceElementwiseKernel('js');
    const js = deriveTensors([{ output: 's', op: 'Sub', inputs: ['x', 'y'], attrs: {} }], { x, y }).s!.data;
    expect(Array.from(bits(kernel)).every((b, k) => b === bits(js)[k])).toBe(false);
  });
});

describe('what a calibration fetches', () => {
  // X → Conv → hard-swish (Add 3, Clip 0..6, Div 6, Mul) → Relu → MatMul; a Div with a constant
  // numerator; a Clip bounded by a tensor
  const model = () =>
    buildModel({
      inputs: [['X', [1, 2, 4, 4]]],
      outputs: [['Y', undefined]],
      inits: [
        floatTensor('W', [2, 2, 1, 1], (i) => i - 1.5),
        floatTensor('three', [], () => 3),
        floatTensor('zero', [], () => 0),
        floatTensor('six', [], () => 6),
        floatTensor('one', [], () => 1),
        floatTensor('M', [4, 4], (i) => i * 0.1),
        makeTensor('shape', 7, [1], bytesOf(BigInt64Array.of(-1n))),
      ],
      nodes: [
        makeNode('Conv', ['X', 'W'], ['c'], 'conv'),
        makeNode('Add', ['c', 'three'], ['a'], 'add3'),
        makeNode('Clip', ['a', 'zero', 'six'], ['cl'], 'clip'),
        makeNode('Div', ['cl', 'six'], ['d'], 'div6'),
        makeNode('Mul', ['c', 'd'], ['hs'], 'mul'),
        makeNode('Relu', ['hs'], ['r'], 'relu'),
        makeNode('MatMul', ['r', 'M'], ['mm'], 'matmul'),
        makeNode('Div', ['one', 'mm'], ['inv'], 'inverse'),
        makeNode('Clip', ['inv', 'zero', 'mm'], ['Y'], 'clip_by_tensor'),
      ],
    });

  it('recomputes the elementwise tails, fetches what they start from and what they cannot make', () => {
    const plan = planCalibrationFetches(model(), ['X', 'c', 'a', 'cl', 'd', 'hs', 'r', 'mm', 'inv', 'Y']);
    // c: a Conv's; r: read by a MatMul (onnxruntime may fold a scale into it); mm: a MatMul's;
    // inv: 1 / x (a Div with a constant numerator); Y: a Clip bounded by a tensor
    expect(plan.fetched).toEqual(['X', 'c', 'r', 'mm', 'inv', 'Y']);
    expect(plan.steps.map((s) => `${s.op} ${s.output}`)).toEqual(['Add a', 'Clip cl', 'Div d', 'Mul hs']);
    expect(plan.steps[1]!.attrs).toEqual({ min: 0, max: 6 });
    expect(plan.steps[0]!.inputs[1]).toMatchObject({ dims: [] });
  });

  it('keeps only the steps a wanted tensor needs', () => {
    const plan = planCalibrationFetches(model(), ['c', 'hs']);
    expect(plan.fetched).toEqual(['c']);
    expect(plan.steps.map((s) => s.output)).toEqual(['a', 'cl', 'd', 'hs']); // a, cl, d: on the way to hs
  });
});
