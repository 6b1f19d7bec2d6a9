/** Small models built in tests, for unit cases (real models are for integration and e2e). */
import { create } from '@bufbuild/protobuf';
import { mulberry32, normalSampler } from '../../src/core/random';
import { AttributeProtoSchema, GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { encodeModel } from '../../src/onnx/codec';
import {
  bytesOf,
  makeNode,
  makeOpset,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../../src/onnx/proto';

export function floatTensor(name: string, dims: number[], fill: (i: number) => number): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  return makeTensor(name, 1, dims, bytesOf(Float32Array.from({ length: n }, (_, i) => fill(i))));
}

export function buildModel(opts: {
  nodes: NodeProto[];
  inits?: TensorProto[];
  inputs: [string, (number | string)[]][];
  outputs: [string, (number | string)[] | undefined][];
  opset?: number;
  ir?: number;
}): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: BigInt(opts.ir ?? 7),
    producerName: 'quantscope-tests',
    opsetImport: [makeOpset('', opts.opset ?? 13)],
    graph: create(GraphProtoSchema, {
      name: 'g',
      node: opts.nodes,
      initializer: opts.inits ?? [],
      input: opts.inputs.map(([n, s]) => makeValueInfo(n, 1, s)),
      output: opts.outputs.map(([n, s]) => makeValueInfo(n, 1, s)),
    }),
  });
}

/** X[1,3,8,8] → Conv(4x3x3x3, bias) → Relu → GlobalAveragePool → Flatten → MatMul[4,5] → Add → Gemm(transB) → Y[1,6]. */
export function tinyConvNet(): ModelProto {
  const w = (i: number) => Math.sin(i * 1.7) * 0.5;
  return buildModel({
    inputs: [['X', [1, 3, 8, 8]]],
    outputs: [['Y', [1, 6]]],
    inits: [
      floatTensor('W', [4, 3, 3, 3], w),
      floatTensor('B', [4], (i) => 0.1 * i - 0.1),
      floatTensor('M', [4, 5], (i) => Math.cos(i) * 0.8),
      floatTensor('C', [5], (i) => 0.05 * i),
      floatTensor('G', [6, 5], (i) => Math.sin(i * 0.3)),
      floatTensor('GB', [6], (i) => 0.01 * i),
      makeTensor('shape2', 7, [2], bytesOf(BigInt64Array.of(1n, -1n))),
    ],
    nodes: [
      makeNode('Conv', ['X', 'W', 'B'], ['conv'], 'conv0', { pads: [1, 1, 1, 1] }),
      makeNode('Relu', ['conv'], ['relu'], 'relu0'),
      makeNode('GlobalAveragePool', ['relu'], ['gap'], 'gap0'),
      makeNode('Reshape', ['gap', 'shape2'], ['flat'], 'reshape0'),
      makeNode('MatMul', ['flat', 'M'], ['mm'], 'matmul0'),
      makeNode('Add', ['mm', 'C'], ['add'], 'add0'),
      makeNode('Gemm', ['add', 'G', 'GB'], ['Y'], 'gemm0', { transB: 1 }),
    ],
  });
}

export { encodeModel };

/** X → Log → Conv → A (NaN wherever X < 0), and X → Mul(0) → Conv → B (an all-zero activation). */
export function nanAndZeroNet(): ModelProto {
  return buildModel({
    inputs: [['X', [1, 3, 8, 8]]],
    outputs: [
      ['A', [1, 4, 8, 8]],
      ['B', [1, 4, 8, 8]],
    ],
    inits: [
      floatTensor('Wa', [4, 3, 3, 3], (i) => Math.sin(i)),
      floatTensor('Wb', [4, 3, 3, 3], (i) => Math.cos(i)),
      floatTensor('Bb', [4], (i) => i - 1.5),
      floatTensor('zero', [1], () => 0),
    ],
    nodes: [
      makeNode('Log', ['X'], ['logx'], 'log0'),
      makeNode('Conv', ['logx', 'Wa'], ['A'], 'conv_a', { pads: [1, 1, 1, 1] }),
      makeNode('Mul', ['X', 'zero'], ['zeros'], 'mul0'),
      makeNode('Conv', ['zeros', 'Wb', 'Bb'], ['B'], 'conv_b', { pads: [1, 1, 1, 1] }),
    ],
  });
}

/**
 * A small transformer encoder, built here with seeded random weights (≈ 1.1 M parameters): token
 * ids [1, T] → embedding Gather → two pre-norm blocks (LayerNormalization, single-head attention with
 * MatMul and Softmax, GELU MLP through Erf) → LayerNormalization → MatMul to the vocabulary → logits.
 * Opset 17 (LayerNormalization's first opset). Its weights are MatMul/Gather-heavy like real ones.
 */
export function tinyTransformer(
  opts: { vocab?: number; dim?: number; hidden?: number; layers?: number; seq?: number } = {},
): ModelProto {
  const { vocab = 512, dim = 128, hidden = 512, layers = 2, seq = 16 } = opts;
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const inits: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const w = (name: string, dims: number[], std: number) => (
    inits.push(floatTensor(name, dims, () => normal() * std)),
    name
  );
  const c = (name: string, dims: number[], v: number) => (inits.push(floatTensor(name, dims, () => v)), name);
  w('embedding', [vocab, dim], 0.5);
  nodes.push(makeNode('Gather', ['embedding', 'tokens'], ['h0'], 'embed'));
  let h = 'h0';
  const scale = c('attn_scale', [], 1 / Math.sqrt(dim));
  const half = c('half', [], 0.5);
  const one = c('one', [], 1);
  const sqrt1_2 = c('sqrt1_2', [], Math.SQRT1_2);
  for (let l = 0; l < layers; l++) {
    const p = `l${l}`;
    const ln = (x: string, tag: string) => {
      nodes.push(
        makeNode(
          'LayerNormalization',
          [x, c(`${p}_${tag}_gamma`, [dim], 1), c(`${p}_${tag}_beta`, [dim], 0)],
          [`${p}_${tag}`],
          `${p}_${tag}_ln`,
          { axis: -1, epsilon: 1e-5 },
        ),
      );
      return `${p}_${tag}`;
    };
    const x = ln(h, 'ln1');
    // attention over the sequence (batch 1): softmax(q kᵀ / √d) v, then the output projection
    nodes.push(makeNode('MatMul', [x, w(`${p}_wq`, [dim, dim], 1 / Math.sqrt(dim))], [`${p}_q`], `${p}_q_proj`));
    nodes.push(makeNode('MatMul', [x, w(`${p}_wk`, [dim, dim], 1 / Math.sqrt(dim))], [`${p}_k`], `${p}_k_proj`));
    nodes.push(makeNode('MatMul', [x, w(`${p}_wv`, [dim, dim], 1 / Math.sqrt(dim))], [`${p}_v`], `${p}_v_proj`));
    nodes.push(makeNode('Squeeze', [`${p}_k`, 'axis0'], [`${p}_k2`], `${p}_k_squeeze`));
    nodes.push(makeNode('Transpose', [`${p}_k2`], [`${p}_kt`], `${p}_k_transpose`, { perm: [1, 0] }));
    nodes.push(makeNode('MatMul', [`${p}_q`, `${p}_kt`], [`${p}_scores`], `${p}_scores`));
    nodes.push(makeNode('Mul', [`${p}_scores`, scale], [`${p}_scaled`], `${p}_scale`));
    nodes.push(makeNode('Softmax', [`${p}_scaled`], [`${p}_probs`], `${p}_softmax`, { axis: -1 }));
    nodes.push(makeNode('MatMul', [`${p}_probs`, `${p}_v`], [`${p}_ctx`], `${p}_context`));
    nodes.push(
      makeNode('MatMul', [`${p}_ctx`, w(`${p}_wo`, [dim, dim], 1 / Math.sqrt(dim))], [`${p}_attn`], `${p}_o_proj`),
    );
    nodes.push(makeNode('Add', [h, `${p}_attn`], [`${p}_res1`], `${p}_residual1`));
    const y = ln(`${p}_res1`, 'ln2');
    // MLP with exact GELU: x · 0.5 · (1 + erf(x / √2))
    nodes.push(makeNode('MatMul', [y, w(`${p}_w1`, [dim, hidden], 1 / Math.sqrt(dim))], [`${p}_up`], `${p}_up_proj`));
    nodes.push(makeNode('Add', [`${p}_up`, c(`${p}_b1`, [hidden], 0.01)], [`${p}_upb`], `${p}_up_bias`));
    nodes.push(makeNode('Mul', [`${p}_upb`, sqrt1_2], [`${p}_gs`], `${p}_gelu_scale`));
    nodes.push(makeNode('Erf', [`${p}_gs`], [`${p}_erf`], `${p}_gelu_erf`));
    nodes.push(makeNode('Add', [`${p}_erf`, one], [`${p}_erf1`], `${p}_gelu_add`));
    nodes.push(makeNode('Mul', [`${p}_upb`, `${p}_erf1`], [`${p}_g2`], `${p}_gelu_mul`));
    nodes.push(makeNode('Mul', [`${p}_g2`, half], [`${p}_gelu`], `${p}_gelu_half`));
    nodes.push(
      makeNode(
        'MatMul',
        [`${p}_gelu`, w(`${p}_w2`, [hidden, dim], 1 / Math.sqrt(hidden))],
        [`${p}_down`],
        `${p}_down_proj`,
      ),
    );
    nodes.push(makeNode('Add', [`${p}_res1`, `${p}_down`], [`${p}_res2`], `${p}_residual2`));
    h = `${p}_res2`;
  }
  inits.push(makeTensor('axis0', 7, [1], bytesOf(BigInt64Array.of(0n))));
  nodes.push(
    makeNode('LayerNormalization', [h, c('final_gamma', [dim], 1), c('final_beta', [dim], 0)], ['final'], 'final_ln', {
      axis: -1,
      epsilon: 1e-5,
    }),
  );
  nodes.push(makeNode('MatMul', ['final', w('lm_head', [dim, vocab], 1 / Math.sqrt(dim))], ['logits'], 'lm_head'));
  const model = buildModel({
    nodes,
    inits,
    inputs: [['tokens', [1, seq]]],
    outputs: [['logits', [1, seq, vocab]]],
    opset: 17,
    ir: 8,
  });
  model.graph!.input[0] = makeValueInfo('tokens', 7, [1, seq]); // int64 token ids
  return model;
}

/** For weight rounding (GPTQ, AdaRound) with blocks: X[1,32,10,10] → Conv 3x3 (48 out, 32 in) → Relu → Conv 1x1 (16 out) → Transpose/Reshape → MatMul [16, 64]. */
export function blockConvNet(): ModelProto {
  const g = normalSampler(mulberry32(5));
  return buildModel({
    inputs: [['X', [1, 32, 10, 10]]],
    outputs: [['Y', [1, 100, 64]]],
    opset: 13,
    inits: [
      floatTensor('W1', [48, 32, 3, 3], () => g() * 0.1),
      floatTensor('B1', [48], () => g() * 0.1),
      floatTensor('W2', [16, 48, 1, 1], () => g() * 0.2),
      floatTensor('M', [16, 64], () => g() * 0.3),
      makeTensor('shape', 7, [3], bytesOf(BigInt64Array.of(1n, 100n, 16n))),
    ],
    nodes: [
      makeNode('Conv', ['X', 'W1', 'B1'], ['c1'], 'conv1', { pads: [1, 1, 1, 1] }),
      makeNode('Relu', ['c1'], ['r1'], 'relu1'),
      makeNode('Conv', ['r1', 'W2'], ['c2'], 'conv2'),
      makeNode('Transpose', ['c2'], ['t'], 'tr', { perm: [0, 2, 3, 1] }),
      makeNode('Reshape', ['t', 'shape'], ['flat'], 'reshape'),
      makeNode('MatMul', ['flat', 'M'], ['Y'], 'mm'),
    ],
  });
}

/**
 * A transformer block with outlier activation channels (as LLMs' LayerNorm outputs have: Xiao et al.
 * 2022 §3): X[1,16,32] → LayerNormalization (4 channels scaled ×30, their weight rows ÷30) → two MatMuls sharing it → Add →
 * Relu → MatMul → Y.
 */
export function outlierBlock(): ModelProto {
  const randoms = (n: number, seed: number, f: (g: number, i: number) => number) => {
    const g = normalSampler(mulberry32(seed));
    return Float32Array.from({ length: n }, (_, i) => f(g(), i));
  };
  // the outlier channels' weight rows are as much smaller, so every channel matters to the output
  const w = (name: string, seed: number, outlierRows: boolean) => {
    const r = randoms(
      32 * 32,
      seed,
      (g, i) => (outlierRows && Math.floor(i / 32) % 8 === 3 ? g / 30 : g) / Math.sqrt(32),
    );
    return floatTensor(name, [32, 32], (i) => r[i]!);
  };
  return buildModel({
    opset: 17,
    ir: 8,
    inputs: [['X', [1, 16, 32]]],
    outputs: [['Y', [1, 16, 32]]],
    inits: [
      floatTensor('gamma', [32], (i) => (i % 8 === 3 ? 30 : 1)),
      floatTensor('beta', [32], (i) => 0.01 * i),
      w('Wa', 31, true),
      w('Wb', 32, true),
      w('W2', 33, false),
    ],
    nodes: [
      makeNode('LayerNormalization', ['X', 'gamma', 'beta'], ['ln'], 'ln', { axis: -1, epsilon: 1e-5 }),
      makeNode('MatMul', ['ln', 'Wa'], ['a'], 'proj_a'),
      makeNode('MatMul', ['ln', 'Wb'], ['b'], 'proj_b'),
      makeNode('Add', ['a', 'b'], ['ab'], 'add'),
      makeNode('Relu', ['ab'], ['h'], 'relu'),
      makeNode('MatMul', ['h', 'W2'], ['Y'], 'proj_out'),
    ],
  });
}

/**
 * A model onnxruntime-node aborts on while loading (an assertion in its C++ graph code, SIGABRT; onnxruntime
 * 1.2x): DequantizeLinear → Transpose, the Transpose's output read from outer scope by an If's branches.
 * onnxruntime-web refuses it with an error ("Argument type mismatch when adding edge"). X[1,4,8] → Y[1,8,4].
 */
export function onnxruntimeNodeAborter(): ModelProto {
  const branch = (name: string, op: string) =>
    create(GraphProtoSchema, {
      name,
      node: [makeNode(op, ['t'], [`${name}_out`], `${name}_node`)],
      output: [makeValueInfo(`${name}_out`, 1)],
    });
  const m = buildModel({
    inputs: [['X', [1, 4, 8]]],
    outputs: [['Y', undefined]],
    opset: 17,
    ir: 8,
    inits: [floatTensor('s', [], () => 0.05), makeTensor('z', 2, [], new Uint8Array(1))],
    nodes: [
      makeNode('Relu', ['X'], ['r'], 'relu'),
      makeNode('QuantizeLinear', ['r', 's', 'z'], ['rq'], 'q'),
      makeNode('DequantizeLinear', ['rq', 's', 'z'], ['rd'], 'dq'),
      makeNode('Transpose', ['rd'], ['t'], 'transpose', { perm: [0, 2, 1] }),
      makeNode('ReduceMax', ['X'], ['m'], 'max', { keepdims: 0 }),
      makeNode('Greater', ['m', 's'], ['cond'], 'cond'),
      makeNode('If', ['cond'], ['Y'], 'branch'),
    ],
  });
  m.graph!.node.at(-1)!.attribute = [
    create(AttributeProtoSchema, { name: 'then_branch', type: 5, g: branch('then', 'Identity') }),
    create(AttributeProtoSchema, { name: 'else_branch', type: 5, g: branch('else', 'Neg') }),
  ];
  return m;
}
