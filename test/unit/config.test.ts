/** The one configuration type: levels resolve tensor/node over op type over the model default. */
import { describe, expect, it } from 'vitest';
import { activationConfigFor, DEFAULT_CONFIG, isExcluded, weightConfigFor, type QuantConfig } from '../../src/core';
import { planQuantization } from '../../src/onnx';
import { topKAgreement } from '../../src/core/metrics';
import { tinyConvNet } from '../helpers/models';

const config: QuantConfig = {
  ...DEFAULT_CONFIG,
  opTypes: { Conv: { activations: { dtype: 'uint8' }, weights: { perChannel: false } }, Gemm: { exclude: true } },
  tensors: { relu: { activations: { symmetric: true } } },
  nodes: { matmul0: { weights: { perChannel: false } } },
};

describe('configuration levels', () => {
  it('resolves activations: tensor over producer op type over default', () => {
    expect(activationConfigFor(config, 'conv', 'Conv')).toEqual({ dtype: 'uint8', symmetric: false });
    expect(activationConfigFor(config, 'relu', 'Relu')).toEqual({ dtype: 'int8', symmetric: true });
    expect(activationConfigFor(config, 'x', undefined)).toEqual(DEFAULT_CONFIG.activations);
  });
  it('resolves weights: node over op type over default', () => {
    expect(weightConfigFor(config, 'conv0', 'Conv').perChannel).toBe(false);
    expect(weightConfigFor(config, 'matmul0', 'MatMul').perChannel).toBe(false);
    expect(weightConfigFor(config, 'other', 'MatMul').perChannel).toBe(true);
  });
  it('excludes by op type and by node, and the plan follows', () => {
    expect(isExcluded(config, 'gemm0', 'Gemm')).toBe(true);
    const plan = planQuantization(tinyConvNet(), { ...config, excludeNodes: ['add0'] });
    expect(plan.nodes.map((n) => n.name)).toEqual(['conv0', 'gap0', 'matmul0']);
    expect(plan.floatNodes.map((n) => n.name).sort()).toEqual(['add0', 'gemm0']);
  });
});

describe('top-k agreement', () => {
  it('counts rows whose top-1 agrees, and float top-1 within quantized top-5', () => {
    const x = Float32Array.of(0.1, 0.9, 0, 0, 0, 0, /* row 2 */ 0.5, 0.1, 0.2, 0.3, 0.05, 0.04);
    const y = Float32Array.of(0.2, 0.8, 0, 0, 0, 0, /* row 2 */ 0.1, 0.5, 0.2, 0.3, 0.05, 0.04);
    expect(topKAgreement(x, y, [2, 6])).toEqual({ top1: 1, top5: 2, rows: 2 });
    expect(topKAgreement(x, y, [1, 2, 6])).toBeNull();
  });
});
