/** The plan and the QDQ graph it produces, on small models built here. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core';
import {
  buildQdqModel,
  decodeModel,
  encodeModel,
  makeNode,
  planQuantization,
  prepareModel,
  readFloat32,
  dimsOf,
  getAttr,
} from '../../src/onnx';
import { buildModel, floatTensor, tinyConvNet } from '../helpers/models';

describe('per-channel weight axis by op', () => {
  const cases: [string, ReturnType<typeof makeNode>, number[], number][] = [
    ['Conv', makeNode('Conv', ['X', 'W'], ['Y'], 'n'), [4, 3, 1, 1], 0],
    ['ConvTranspose', makeNode('ConvTranspose', ['X', 'W'], ['Y'], 'n'), [3, 4, 1, 1], 1],
    ['MatMul [K,N]', makeNode('MatMul', ['X', 'W'], ['Y'], 'n'), [3, 4], 1],
    ['Gemm transB=1', makeNode('Gemm', ['X', 'W'], ['Y'], 'n', { transB: 1 }), [4, 3], 0],
    ['Gemm transB=0', makeNode('Gemm', ['X', 'W'], ['Y'], 'n'), [3, 4], 1],
  ];
  it.each(cases)('%s', (_label, node, wdims, axis) => {
    const m = buildModel({
      inputs: [['X', [1, 3, 2, 2]]],
      outputs: [['Y', undefined]],
      inits: [floatTensor('W', wdims, (i) => i - 3)],
      nodes: [node],
    });
    const plan = planQuantization(m, DEFAULT_CONFIG);
    expect(plan.nodes[0]!.weight).toEqual({ inputIndex: 1, tensor: 'W', axis });
  });

  it('a MatMul between two activations has no weight: both inputs are activations', () => {
    const m = buildModel({
      inputs: [
        ['A', [2, 3]],
        ['B', [3, 4]],
      ],
      outputs: [['Y', [2, 4]]],
      nodes: [makeNode('MatMul', ['A', 'B'], ['Y'], 'attn')],
    });
    const plan = planQuantization(m, DEFAULT_CONFIG);
    expect(plan.nodes[0]!.weight).toBeUndefined();
    expect(plan.nodes[0]!.activationInputs.map((a) => a.tensor)).toEqual(['A', 'B']);
  });
});

describe('placement pytorch-eager (the PyTorch presets): pairs where eager PyTorch observes', () => {
  const model = tinyConvNet();
  const config = { ...DEFAULT_CONFIG, placement: 'pytorch-eager' } as const;
  const plan = planQuantization(model, config);
  const ranges = new Map(plan.activations.map((t, i) => [t, { rmin: -1 - i, rmax: 2 + i }]));
  const g = buildQdqModel(model, plan, ranges, config).model.graph!;
  const quantized = (t: string) => g.node.find((n) => n.opType === 'QuantizeLinear' && n.input[0] === t);

  it("the Conv output keeps its range, the Relu, pooling and reshape outputs take it, a MatMul + Add Linear is observed after the Add, the model's output is quantized", () => {
    expect(plan.activations).toEqual(['X', 'conv', 'add', 'Y']);
    expect([...plan.followers]).toEqual([
      ['relu', 'conv'],
      ['gap', 'conv'],
      ['flat', 'conv'],
    ]);
    expect(quantized('relu')!.input.slice(1)).toEqual(quantized('conv')!.input.slice(1));
    expect(quantized('flat')!.input.slice(1)).toEqual(quantized('conv')!.input.slice(1));
    // the product and the bias stay inside the Linear: no pair on mm, the bias C stays float
    expect(quantized('mm')).toBeUndefined();
    expect(g.node.find((n) => n.name === 'add0')!.input).toEqual(['mm', 'C']);
  });

  it("the model's output keeps its name, on the DequantizeLinear; the Gemm writes a new float tensor", () => {
    expect(g.output.map((o) => o.name)).toEqual(['Y']);
    const dq = g.node.find((n) => n.output[0] === 'Y')!;
    expect(dq.opType).toBe('DequantizeLinear');
    const gemm = g.node.find((n) => n.name === 'gemm0')!;
    expect(quantized(gemm.output[0]!)).toBeDefined();
    expect(gemm.output[0]).not.toBe('Y');
  });

  it('a Gemm after a quantized input still gets an int32 bias', () => {
    const inits = new Map(g.initializer.map((t) => [t.name, t]));
    const gemm = g.node.find((n) => n.name === 'gemm0')!;
    const biasDq = g.node.find((n) => n.output[0] === gemm.input[2])!;
    expect(inits.get(biasDq.input[0]!)!.dataType).toBe(6); // INT32
  });
});

describe('QDQ export of a small conv net', () => {
  const model = tinyConvNet();
  const plan = planQuantization(model, DEFAULT_CONFIG);
  const ranges = new Map(plan.activations.map((t) => [t, { rmin: -1, rmax: 2 }]));
  const { model: q, report } = buildQdqModel(model, plan, ranges, DEFAULT_CONFIG);
  const g = q.graph!;

  it('shares the Relu output range with the Conv: the conv output has no QuantizeLinear of its own', () => {
    expect(plan.shared.get('conv')).toBe('relu');
    expect(plan.activations).toEqual(['X', 'relu', 'gap', 'flat', 'mm', 'add']);
    const qInputs = g.node.filter((n) => n.opType === 'QuantizeLinear').map((n) => n.input[0]);
    expect(qInputs).toEqual(['X', 'relu', 'gap', 'flat', 'mm', 'add']);
  });

  it('gives every QuantizeLinear a typed (int8) zero point', () => {
    const inits = new Map(g.initializer.map((t) => [t.name, t]));
    for (const n of g.node.filter((n) => n.opType === 'QuantizeLinear')) {
      expect(n.input).toHaveLength(3);
      expect(inits.get(n.input[2]!)!.dataType).toBe(3);
    }
  });

  it('stores weights int8 per channel on the right axis, and the bias int32 with no zero point', () => {
    const dq = (consumer: string, i: number) => {
      const input = g.node.find((n) => n.name === consumer)!.input[i]!;
      return g.node.find((n) => n.output[0] === input)!;
    };
    const inits = new Map(g.initializer.map((t) => [t.name, t]));
    const conv = dq('conv0', 1);
    expect(conv.opType).toBe('DequantizeLinear');
    expect(Number(getAttr(conv, 'axis')!.i)).toBe(0);
    expect(inits.get(conv.input[0]!)!.dataType).toBe(3);
    expect(dimsOf(inits.get(conv.input[1]!)!)).toEqual([4]);
    expect(Number(getAttr(dq('matmul0', 1), 'axis')!.i)).toBe(1);
    expect(Number(getAttr(dq('gemm0', 1), 'axis')!.i)).toBe(0);
    const bias = dq('conv0', 2);
    expect(bias.input).toHaveLength(2);
    expect(inits.get(bias.input[0]!)!.dataType).toBe(6);
    // bias scale = input scale * weight scale, per channel
    const sIn = readFloat32(
      inits.get(g.node.find((n) => n.opType === 'QuantizeLinear' && n.input[0] === 'X')!.input[1]!)!,
    )[0]!;
    const sW = readFloat32(inits.get(conv.input[1]!)!);
    expect(Array.from(readFloat32(inits.get(bias.input[1]!)!))).toEqual(Array.from(sW, (s) => Math.fround(sIn * s)));
  });

  it('drops the float weights and reports the weight bytes', () => {
    expect(g.initializer.find((t) => t.name === 'W')).toBeUndefined();
    expect(report.quantizedWeights).toBe(3);
    expect(report.floatTensors).toEqual([]);
  });

  it('keeps a tensor float when its range had NaN, and says which', () => {
    const r = new Map<string, { rmin: number; rmax: number } | null>(ranges);
    r.set('gap', null);
    const out = buildQdqModel(model, plan, r, DEFAULT_CONFIG);
    expect(out.report.floatTensors).toEqual([{ tensor: 'gap', reason: 'NaN or Infinity seen in calibration' }]);
    expect(out.model.graph!.node.some((n) => n.opType === 'QuantizeLinear' && n.input[0] === 'gap')).toBe(false);
  });
});

describe('decode / encode', () => {
  it('an untouched model survives decode and encode byte for byte', () => {
    const bytes = encodeModel(tinyConvNet());
    expect(encodeModel(decodeModel(bytes, 'tiny.onnx'))).toEqual(bytes);
  });
  it('a real Paddle2ONNX model keeps its content through decode and encode', async () => {
    const { equals } = await import('@bufbuild/protobuf');
    const { ModelProtoSchema } = await import('onnx-buf');
    const { ocrModel } = await import('../helpers/sample');
    const m = decodeModel(ocrModel('det'), 'det.onnx');
    expect(equals(ModelProtoSchema, decodeModel(encodeModel(m), 'det.onnx'), m)).toBe(true);
  });
  it('prepare names nothing and changes nothing in a model that needs no preparation', () => {
    const p = prepareModel(tinyConvNet());
    expect(p.log).toEqual([]);
  });
});
