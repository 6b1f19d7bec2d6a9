/**
 * Shape arithmetic computed for fixed input shapes (passes/freezeShapes), checked in onnxruntime-node:
 * Slice folded as onnxruntime computes it (random starts, ends, axes and steps, INT64_MAX ends among
 * them), Shape's start/end (opset 15), and PaddleOCR's direction classifier, whose two run-time shapes
 * become constants: its outputs unchanged bit for bit, and nothing left that TFLite refuses.
 */
import * as ort from 'onnxruntime-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesOf, decodeModel, encodeModel, makeNode, makeTensor, prepareModel } from '../../src/onnx';
import { foldConstants } from '../../src/onnx/passes/foldConstants';
import { freezeShapes } from '../../src/onnx/passes/freezeShapes';
import { refusedNodes } from '../../src/onnx/forms/tflite';
import { DT, readFloat32 } from '../../src/onnx/tensor';
import { buildModel } from '../helpers/models';
import { ocrModel, seededFloats } from '../helpers/sample';

const INT64_MAX = 2n ** 63n - 1n;
const ints = (name: string, v: readonly bigint[]) =>
  makeTensor(name, DT.INT64, [v.length], bytesOf(BigInt64Array.from(v)));

async function runOrt(model: ReturnType<typeof buildModel>, feeds: Record<string, ort.Tensor>, output: string) {
  const s = await ort.InferenceSession.create(encodeModel(model), { logSeverityLevel: 3 });
  try {
    return (await s.run(feeds))[output]!;
  } finally {
    await s.release();
  }
}

describe('Slice folded as onnxruntime computes it', () => {
  it('random slices of a [2..4]^3 tensor', async () => {
    const arb = fc.array(fc.integer({ min: 2, max: 4 }), { minLength: 3, maxLength: 3 }).chain((dims) =>
      fc.record({
        dims: fc.constant(dims),
        axes: fc.shuffledSubarray([0, 1, 2], { minLength: 1 }),
        starts: fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 3, maxLength: 3 }),
        ends: fc.array(fc.oneof(fc.integer({ min: -6, max: 6 }), fc.constant(null)), { minLength: 3, maxLength: 3 }),
        steps: fc.array(fc.constantFrom(-2, -1, 1, 2, 3), { minLength: 3, maxLength: 3 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ dims, axes, starts, ends, steps }) => {
        const k = axes.length;
        // null: INT64_MAX (to the end) for a positive step, INT64_MIN + 1 for a negative one
        const end = (i: number) => (ends[i] === null ? (steps[i]! > 0 ? INT64_MAX : -INT64_MAX) : BigInt(ends[i]!));
        const n = dims.reduce((a, b) => a * b, 1);
        const x = seededFloats(n, n + k);
        const inits = [
          ints('starts', starts.slice(0, k).map(BigInt)),
          ints(
            'ends',
            Array.from({ length: k }, (_, i) => end(i)),
          ),
          ints('axes', axes.map(BigInt)),
          ints('steps', steps.slice(0, k).map(BigInt)),
        ];
        const node = makeNode('Slice', ['x', 'starts', 'ends', 'axes', 'steps'], ['y'], 'slice');
        const expected = await runOrt(
          buildModel({ nodes: [node], inits, inputs: [['x', dims]], outputs: [['y', undefined]] }),
          { x: new ort.Tensor('float32', x, dims) },
          'y',
        );
        // the same Slice on a constant x, then an Identity to the output (a graph output is never folded)
        const folded = foldConstants(
          buildModel({
            nodes: [node, makeNode('Identity', ['y'], ['out'], 'id')],
            inits: [makeTensor('x', DT.FLOAT, dims, bytesOf(x)), ...inits],
            inputs: [],
            outputs: [['out', undefined]],
          }),
        );
        expect(folded.folded).toBe(1);
        const y = folded.model.graph!.initializer.find((t) => t.name === 'y')!;
        expect(y.dims.map(Number)).toEqual(expected.dims);
        expect(Array.from(readFloat32(y))).toEqual(Array.from(expected.data as Float32Array));
      }),
      { numRuns: 60 },
    );
  });
});

describe('freezeShapes', () => {
  it("Shape's start and end (opset 15): the frozen Reshape gives what onnxruntime gives", async () => {
    // x [2, 3, 4, 5] → Reshape(x, Concat([-1], Shape(x, start=-2))) = [6, 4, 5]
    const model = buildModel({
      opset: 15,
      inputs: [['x', ['n', 3, 'h', 5]]],
      outputs: [['y', undefined]],
      inits: [ints('minus1', [-1n])],
      nodes: [
        makeNode('Shape', ['x'], ['s'], 'shape', { start: -2 }),
        makeNode('Concat', ['minus1', 's'], ['shape'], 'concat', { axis: 0 }),
        makeNode('Reshape', ['x', 'shape'], ['y'], 'reshape'),
      ],
    });
    const dims = [2, 3, 4, 5];
    const x = new ort.Tensor('float32', seededFloats(120, 7), dims);
    const frozen = freezeShapes(model, { x: dims });
    expect(frozen.shapes).toBe(1);
    expect(frozen.model.graph!.node.map((n) => n.opType)).toEqual(['Reshape']);
    const shape = frozen.model.graph!.initializer.find((t) => t.name === 'shape')!;
    expect(Array.from(new BigInt64Array(shape.rawData.slice().buffer))).toEqual([-1n, 4n, 5n]);
    const [a, b] = [await runOrt(model, { x }, 'y'), await runOrt(frozen.model, { x }, 'y')];
    expect(b.dims).toEqual([6, 4, 5]);
    expect(b.dims).toEqual(a.dims);
    // the caller's model is left as it was
    expect(model.graph!.node).toHaveLength(3);
  });

  it("PaddleOCR's direction classifier: both run-time shapes constant, outputs bit for bit, nothing TFLite refuses", async () => {
    const prepared = prepareModel(decodeModel(ocrModel('cls'), 'cls.onnx')).model;
    const refused = refusedNodes(prepared).map((r) => r.opType);
    expect(refused).toEqual(expect.arrayContaining(['Shape', 'Cast', 'Reshape']));
    const dims = [1, 3, 48, 192];
    const frozen = freezeShapes(prepared, { x: dims });
    expect(frozen.shapes).toBe(2);
    expect(frozen.model.graph!.node.filter((n) => ['Shape', 'Cast', 'Slice', 'Concat'].includes(n.opType))).toEqual([]);
    expect(refusedNodes(frozen.model)).toEqual([]);
    const x = new ort.Tensor('float32', seededFloats(3 * 48 * 192, 11), dims);
    const [a, b] = [
      await runOrt(prepared, { x }, 'softmax_0.tmp_0'),
      await runOrt(frozen.model, { x }, 'softmax_0.tmp_0'),
    ];
    expect(b.dims).toEqual([1, 2]);
    expect(Array.from(b.data as Float32Array)).toEqual(Array.from(a.data as Float32Array));
  });
});
