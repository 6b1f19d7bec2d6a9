/**
 * Constant folding: a model whose weights are built from constants (Transpose, Reshape, Concat,
 * Gather, Unsqueeze, broadcast Mul/Add/Sub/Div, Cast, Shape) gives the same outputs in onnxruntime
 * before and after folding, and its MatMul weight becomes a constant the weight-only form quantizes.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { bytesOf, encodeModel, exportForm, makeNode, makeTensor } from '../../src/onnx';
import { foldConstants } from '../../src/onnx/passes/foldConstants';
import { prepareModel } from '../../src/onnx/prepare';
import { buildModel, floatTensor } from '../helpers/models';

const i64 = (name: string, v: number[]) => makeTensor(name, 7, [v.length], bytesOf(BigInt64Array.from(v.map(BigInt))));

function model() {
  return buildModel({
    opset: 17,
    inputs: [['x', [2, 8]]],
    outputs: [['y', [2, 6]]],
    inits: [
      floatTensor('wt', [6, 8], (i) => Math.sin(i) * 0.4), // stored transposed
      floatTensor('half_a', [3, 4], (i) => 0.01 * i),
      floatTensor('half_b', [3, 4], (i) => -0.02 * i),
      floatTensor('scale', [1], () => 2),
      floatTensor('table', [5, 6], (i) => Math.cos(i)),
      i64('rows', [1, 3]),
      i64('shape12', [12]),
      i64('axis0', [0]),
    ],
    nodes: [
      makeNode('Transpose', ['wt'], ['w'], 'w_t', { perm: [1, 0] }),
      makeNode('MatMul', ['x', 'w'], ['mm'], 'mm'),
      makeNode('Concat', ['half_a', 'half_b'], ['cat'], 'cat', { axis: 0 }), // [6, 4]
      makeNode('Reshape', ['cat', 'shape12'], ['flat'], 'flat_r'), // [24] ... sliced by Gather below
      makeNode('Gather', ['table', 'rows'], ['picked'], 'pick', { axis: 0 }), // [2, 6]
      makeNode('Mul', ['picked', 'scale'], ['scaled'], 'scale_mul'), // broadcast [2,6] x [1]
      makeNode('Shape', ['picked'], ['picked_shape'], 'shape'),
      makeNode('Cast', ['picked_shape'], ['shape_f'], 'cast', { to: 1 }),
      makeNode('Unsqueeze', ['shape_f', 'axis0'], ['shape_row'], 'unsq'),
      makeNode('Div', ['scaled', 'scale'], ['unscaled'], 'div'),
      makeNode('Sub', ['unscaled', 'picked'], ['zero'], 'sub'),
      makeNode('Add', ['mm', 'scaled'], ['sum'], 'add'),
      makeNode('Add', ['sum', 'zero'], ['y'], 'add_zero'),
    ],
  });
}

describe('foldConstants', () => {
  it('computes constant subgraphs exactly as onnxruntime does', async () => {
    const m = model();
    m.graph!.initializer = m.graph!.initializer.map((t) => (t.name === 'shape12' ? i64('shape12', [24]) : t));
    const f = foldConstants(m);
    expect(f.folded).toBeGreaterThanOrEqual(9);
    expect(f.model.graph!.node.map((n) => n.opType)).toEqual(['MatMul', 'Add', 'Add']);
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 16 }, (_, i) => Math.sin(i * 0.7)),
      [2, 8],
    );
    const run = async (bytes: Uint8Array) =>
      (await (await ort.InferenceSession.create(bytes)).run({ x })).y!.data as Float32Array;
    expect(Array.from(await run(encodeModel(f.model)))).toEqual(Array.from(await run(encodeModel(m))));
  });

  it('leaves graph inputs, outputs and unknown ops alone', () => {
    const m = buildModel({
      opset: 17,
      inputs: [['x', [2]]],
      outputs: [['y', [2]]],
      inits: [floatTensor('c', [2], () => 1)],
      nodes: [makeNode('Exp', ['c'], ['e'], 'exp'), makeNode('Add', ['x', 'e'], ['y'], 'add')],
    });
    expect(foldConstants(m).folded).toBe(0); // Exp is not among the folded ops
  });

  it('after preparation the Transpose-built weight is quantized by the weight-only form', () => {
    const m = model();
    m.graph!.initializer = m.graph!.initializer.map((t) => (t.name === 'shape12' ? i64('shape12', [24]) : t));
    const prepared = prepareModel(m).model;
    const r = exportForm(prepared, {
      ...DEFAULT_CONFIG,
      form: { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null },
    });
    expect(r.report.quantizedNodes.map((q) => q.node)).toEqual(['mm']);
  });
});
