/**
 * The graph-rewriting passes keep the float model's meaning: each pass runs on a model built for it
 * and the rewritten model's outputs stay within 1e-5 of the original's in onnxruntime-node. The
 * models are chosen so that a wrong fold shows: a BatchNorm epsilon far from the default 1e-5 with
 * small variances, a Conv bias that must be scaled, a scale and an offset that differ, and an If whose
 * two branches give different outputs.
 */
import * as ort from 'onnxruntime-node';
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, GraphProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { bytesOf, encodeModel, makeNode, makeTensor, makeValueInfo, type ModelProto } from '../../src/onnx';
import { foldBatchNorm } from '../../src/onnx/passes/foldBatchNorm';
import { foldConvAffine } from '../../src/onnx/passes/foldConvAffine';
import { foldKnownIfs } from '../../src/onnx/passes/foldIf';
import { buildModel, floatTensor } from '../helpers/models';
import { seededFloats } from '../helpers/sample';

const DIMS = [1, 3, 8, 8];
const X = seededFloats(3 * 8 * 8, 17);

async function run(model: ModelProto, extra: Record<string, ort.Tensor> = {}): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(encodeModel(model));
  const feeds: Record<string, ort.Tensor> = { X: new ort.Tensor('float32', X, DIMS) };
  for (const [k, v] of Object.entries(extra)) if (s.inputNames.includes(k)) feeds[k] = v;
  const r = await s.run(feeds);
  return r[s.outputNames[0]!]!.data as Float32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const ops = (m: ModelProto) => m.graph!.node.map((n) => n.opType);

describe('graph passes keep the outputs within 1e-5 (onnxruntime-node)', () => {
  it('foldBatchNorm: Conv (with bias) → BatchNormalization(epsilon 1e-3)', async () => {
    const m = buildModel({
      inputs: [['X', DIMS]],
      outputs: [['Y', [1, 4, 8, 8]]],
      inits: [
        floatTensor('W', [4, 3, 3, 3], (i) => Math.sin(i) * 0.3),
        floatTensor('B', [4], (i) => 0.1 * i - 0.15),
        floatTensor('gamma', [4], (i) => 1.5 - 0.4 * i),
        floatTensor('beta', [4], (i) => -0.2 * i),
        floatTensor('mean', [4], (i) => 0.05 * i),
        floatTensor('var', [4], (i) => 0.002 + 0.01 * i), // small: epsilon matters
      ],
      nodes: [
        makeNode('Conv', ['X', 'W', 'B'], ['conv'], 'conv', { pads: [1, 1, 1, 1] }),
        makeNode('BatchNormalization', ['conv', 'gamma', 'beta', 'mean', 'var'], ['Y'], 'bn', { epsilon: 1e-3 }),
      ],
    });
    const r = foldBatchNorm(m);
    expect(r.folded).toBe(1);
    expect(ops(r.model)).toEqual(['Conv']);
    expect(maxAbsDiff(await run(m), await run(r.model))).toBeLessThanOrEqual(1e-5);
  });

  it('foldConvAffine: Conv (with bias) → Mul(scalar) → Add(scalar)', async () => {
    const m = buildModel({
      inputs: [['X', DIMS]],
      outputs: [['Y', [1, 4, 8, 8]]],
      inits: [
        floatTensor('W', [4, 3, 3, 3], (i) => Math.cos(i) * 0.3),
        floatTensor('B', [4], (i) => 0.2 * i - 0.3),
        floatTensor('a', [], () => 1.75),
        floatTensor('b', [], () => -0.4),
      ],
      nodes: [
        makeNode('Conv', ['X', 'W', 'B'], ['conv'], 'conv', { pads: [1, 1, 1, 1] }),
        makeNode('Mul', ['conv', 'a'], ['scaled'], 'scale'),
        makeNode('Add', ['b', 'scaled'], ['Y'], 'shift'),
      ],
    });
    const r = foldConvAffine(m);
    expect(r.folded).toBe(2);
    expect(ops(r.model)).toEqual(['Conv']);
    expect(maxAbsDiff(await run(m), await run(r.model))).toBeLessThanOrEqual(1e-5);
  });

  it('foldKnownIfs: an If on a fixed sample rate, each value against the unfolded model', async () => {
    const branch = (scale: number) =>
      create(GraphProtoSchema, {
        name: `branch_${scale}`,
        node: [
          makeNode('Constant', [], [`k_${scale}`], `const_${scale}`, {
            value: floatTensor(`k_${scale}`, [], () => scale),
          }),
          makeNode('Mul', ['X', `k_${scale}`], [`scaled_${scale}`], `mul_${scale}`),
        ],
        output: [makeValueInfo(`scaled_${scale}`, 1)],
      });
    const m = buildModel({
      inputs: [['X', DIMS]],
      outputs: [['Y', DIMS]],
      nodes: [
        makeNode('Equal', ['rate', 'rate16k'], ['is16k'], 'is16k'),
        makeNode('If', ['is16k'], ['Y'], 'branch_on_rate'),
      ],
    });
    // graph-valued attributes (AttributeProto type GRAPH = 5)
    m.graph!.node[1]!.attribute = [
      create(AttributeProtoSchema, { name: 'then_branch', type: 5, g: branch(2) }),
      create(AttributeProtoSchema, { name: 'else_branch', type: 5, g: branch(3) }),
    ];
    m.graph!.input.push(makeValueInfo('rate', 7, []));
    m.graph!.initializer.push(makeTensor('rate16k', 7, [], bytesOf(BigInt64Array.of(16000n))));
    for (const rate of [16000, 8000]) {
      const r = foldKnownIfs(m, { rate });
      expect(r.folded).toHaveLength(1);
      expect(ops(r.model)).not.toContain('If');
      const feed = { rate: new ort.Tensor('int64', BigInt64Array.of(BigInt(rate)), []) };
      expect(maxAbsDiff(await run(m, feed), await run(r.model, feed))).toBeLessThanOrEqual(1e-5);
    }
  });
});
