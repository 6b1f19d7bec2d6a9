/**
 * Golden text dumps of each graph-preparation pass on a small model built to exercise all of them
 * (an If on a fixed input, Constant weights in the main graph and in a branch, Conv → BatchNorm →
 * scalar Mul, ReduceMean with its axes attribute, opset 11 → 13 → 21). A pass that changes its output
 * changes a file: the diff shows what. A missing golden fails; UPDATE_GOLDEN=1 rewrites them (review the diff before committing).
 */
import { create } from '@bufbuild/protobuf';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttributeProtoSchema, GraphProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { dumpModel } from '../../src/onnx/dump';
import { foldBatchNorm } from '../../src/onnx/passes/foldBatchNorm';
import { foldConstants } from '../../src/onnx/passes/foldConstants';
import { foldConvAffine } from '../../src/onnx/passes/foldConvAffine';
import { foldKnownIfs } from '../../src/onnx/passes/foldIf';
import { hoistConstants } from '../../src/onnx/passes/hoistConstants';
import { upgradeOpset } from '../../src/onnx/passes/upgradeOpset';
import { nameNodes } from '../../src/onnx/prepare';
import { bytesOf, makeNode, makeTensor, makeValueInfo, type ModelProto } from '../../src/onnx';
import { buildModel, floatTensor } from '../helpers/models';
import { FIXTURES } from '../helpers/reference';

const DIR = join(FIXTURES, 'golden', 'passes');

function model(): ModelProto {
  const branch = (scale: number) =>
    create(GraphProtoSchema, {
      name: `branch_${scale}`,
      node: [
        makeNode('Constant', [], [`k_${scale}`], `const_${scale}`, {
          value: floatTensor(`k_${scale}`, [], () => scale),
        }),
        makeNode('Mul', ['pooled', `k_${scale}`], [`scaled_${scale}`], `mul_${scale}`),
      ],
      output: [makeValueInfo(`scaled_${scale}`, 1)],
    });
  const m = buildModel({
    opset: 11,
    inputs: [['X', [1, 3, 8, 8]]],
    outputs: [['Y', undefined]],
    inits: [
      floatTensor('B_2x2', [2, 2], (i) => 0.1 * i),
      makeTensor('bias_shape', 7, [1], bytesOf(BigInt64Array.of(4n))),
      floatTensor('gamma', [4], () => 1.5),
      floatTensor('beta', [4], (i) => -0.2 * i),
      floatTensor('mean', [4], (i) => 0.05 * i),
      floatTensor('var', [4], () => 0.8),
      floatTensor('two', [], () => 2),
    ],
    nodes: [
      makeNode('Constant', [], ['W'], '', { value: floatTensor('W', [4, 3, 3, 3], (i) => Math.sin(i) * 0.3) }),
      makeNode('Reshape', ['B_2x2', 'bias_shape'], ['B'], 'bias_reshape'), // a constant subgraph: folded
      makeNode('Conv', ['X', 'W', 'B'], ['conv'], '', { pads: [1, 1, 1, 1] }),
      makeNode('BatchNormalization', ['conv', 'gamma', 'beta', 'mean', 'var'], ['bn'], 'bn', { epsilon: 1e-5 }),
      makeNode('Mul', ['bn', 'two'], ['affine'], 'affine'),
      makeNode('ReduceMean', ['affine'], ['pooled'], 'pool', { axes: [2, 3], keepdims: 1 }),
      makeNode('Equal', ['rate', 'rate16k'], ['is16k'], 'is16k'),
      makeNode('If', ['is16k'], ['Y'], 'branch_on_rate'),
    ],
  });
  // graph-valued attributes (AttributeProto type GRAPH = 5)
  m.graph!.node.at(-1)!.attribute = [
    create(AttributeProtoSchema, { name: 'then_branch', type: 5, g: branch(2) }),
    create(AttributeProtoSchema, { name: 'else_branch', type: 5, g: branch(3) }),
  ];
  m.graph!.input.push(makeValueInfo('rate', 7, []));
  m.graph!.initializer.push(makeTensor('rate16k', 7, [], bytesOf(BigInt64Array.of(16000n))));
  return m;
}

describe('golden dumps of each preparation pass', () => {
  const steps: [string, (m: ModelProto) => ModelProto][] = [
    ['0-input', (m) => m],
    ['1-nameNodes', (m) => nameNodes(m).model],
    ['2-foldKnownIfs', (m) => foldKnownIfs(m, { rate: 16000 }).model],
    ['3-hoistConstants', (m) => hoistConstants(m).model],
    ['3b-foldConstants', (m) => foldConstants(m).model],
    ['4-upgradeOpset-13', (m) => upgradeOpset(m, 13).model],
    ['5-foldBatchNorm', (m) => foldBatchNorm(m).model],
    ['6-foldConvAffine', (m) => foldConvAffine(m).model],
    ['7-upgradeOpset-21', (m) => upgradeOpset(m, 21).model],
  ];
  // Each step runs alone: it builds a fresh model and applies the passes up to and including its own,
  // so one test's failure or order cannot change what another one sees.
  steps.forEach(([name], i) => {
    it(name, () => {
      const m = steps.slice(0, i + 1).reduce((acc, [, pass]) => pass(acc), model());
      const text = dumpModel(m);
      const file = join(DIR, `${name}.txt`);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
      expect(existsSync(file), `golden ${file} is missing (UPDATE_GOLDEN=1 writes it)`).toBe(true);
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  });
});
