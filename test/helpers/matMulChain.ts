/**
 * The tune tests' chain of MatMuls (tune.bound, tune.large): [1, 16] through `layers` 16x16 weights,
 * near-orthogonal mixing with a few large weights, so that some layers' ranges are wide; and its
 * samples, one seeded [1, 16] input each.
 */
import type { SampleSpec } from '../../src/data/samples';
import { prepareModel, type ModelProto } from '../../src/onnx';
import { makeNode } from '../../src/onnx/proto';
import { buildModel, floatTensor } from './models';
import { seededFloats } from './sample';

export function matMulChain(layers: number): ModelProto {
  return prepareModel(
    buildModel({
      inputs: [['X', [1, 16]]],
      outputs: [[`t${layers}`, [1, 16]]],
      inits: Array.from({ length: layers }, (_, k) =>
        floatTensor(`W${k}`, [16, 16], (i) => (i % 17 === 0 ? 0.9 : 0.25 * Math.sin(i * (0.37 + 0.01 * k)))),
      ),
      nodes: Array.from({ length: layers }, (_, k) =>
        makeNode('MatMul', [k === 0 ? 'X' : `t${k}`, `W${k}`], [`t${k + 1}`], `mm${k}`),
      ),
    }),
    {},
  ).model;
}

/** `count` samples x0.. of the chain's input, seeded seed + i; `scale(i)` multiplies sample i where given. */
export function matMulChainSamples(count: number, seed: number, scale?: (i: number) => number): SampleSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `x${i}`,
    inputs: {
      X: {
        kind: 'tensor',
        tensor: {
          data: scale ? seededFloats(16, seed + i).map((v) => v * scale(i)) : seededFloats(16, seed + i),
          dims: [1, 16],
        },
      },
    },
  }));
}
