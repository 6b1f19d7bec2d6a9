import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { makeNode, makeValueInfo } from '../../src/onnx';
import { activationBytesEstimate, pageMemoryBudget, planPageCalibration } from '../../src/runtime/pageMemory';

const GiB = 1024 ** 3;

function model() {
  return create(ModelProtoSchema, {
    graph: create(GraphProtoSchema, {
      input: [makeValueInfo('x', 1, ['N', 3, 'H', 'W'])],
      node: [makeNode('Relu', ['x'], ['y'], 'relu', {}), makeNode('Relu', ['y'], ['z'], 'relu2', {})],
      valueInfo: [makeValueInfo('y', 1, ['N', 3, 'H', 'W'])],
      output: [makeValueInfo('z', 1, ['N', 3, 'H', 'W'])],
    }),
  });
}

describe('page memory estimate', () => {
  it("takes wasm32's 4 GiB less a reserve, or the device's memory when it reports less", () => {
    expect(pageMemoryBudget()).toBe(4 * GiB - 256 * 1024 ** 2);
    expect(pageMemoryBudget(8)).toBe(4 * GiB - 256 * 1024 ** 2);
    expect(pageMemoryBudget(2)).toBe(2 * GiB);
  });

  it("sizes tensors from value_info with the sample's shapes bound, else as the largest input", () => {
    const sizes = activationBytesEstimate(model(), ['x', 'y', 'unknown'], { x: [2, 3, 100, 50] });
    expect(sizes.get('x')).toBe(4 * 2 * 3 * 100 * 50);
    expect(sizes.get('y')).toBe(4 * 2 * 3 * 100 * 50);
    expect(sizes.get('unknown')).toBe(4 * 2 * 3 * 100 * 50);
  });

  it('plans passes when every tensor at once does not fit, and refuses with the numbers when one cannot', () => {
    const dims = { x: [1, 3, 512, 512] }; // 3 MiB a tensor
    const one = planPageCalibration(model(), 10 * 1024 ** 2, ['x', 'y', 'z'], dims, GiB);
    expect(one.passes).toEqual([['x', 'y', 'z']]);
    const split = planPageCalibration(model(), 10 * 1024 ** 2, ['x', 'y', 'z'], dims, 30 * 1024 ** 2);
    expect(split.passes.length).toBeGreaterThan(1);
    expect(split.passes.flat()).toEqual(['x', 'y', 'z']);
    expect(split.note).toMatch(/calibrating in \d passes/);
    expect(() => planPageCalibration(model(), 2 * GiB, ['x'], dims, 3 * GiB)).toThrow(
      /calibration needs at least 4\.0\d GiB .* this runtime gives 3\.00 GiB/,
    );
  });
});
