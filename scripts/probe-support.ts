/**
 * npm run probe:support — fill src/onnx/forms/support.json: for every op and element type the export
 * forms write, a one-node model (with Casts around it for float16), run through the app's own worker
 * on each onnxruntime-web backend in Chromium, with CPU fallback disabled, so "runs" means the
 * backend ran the node itself. Needs a build (npm run build) and Chromium (CHROMIUM_PATH, default
 * /usr/bin/chromium). WebGPU and WebNN are probed only where the browser has them; the file says
 * which adapter answered (a software adapter proves correctness, not speed).
 */
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import {
  bytesOf,
  encodeModel,
  makeNode,
  makeOpset,
  makeTensor,
  makeValueInfo,
  type NodeProto,
  type TensorProto,
} from '../src/onnx';
import { opKey } from '../src/onnx/forms/support';
import { inferElemTypes } from '../src/onnx/types';
import { DT } from '../src/onnx/tensor';

const ROOT = join(import.meta.dirname, '..');
const PORT = 4179;

interface Probe {
  key: string;
  bytes: Uint8Array;
  dims: number[];
}

const f32 = (name: string, dims: number[], v = 0.1) =>
  makeTensor(
    name,
    DT.FLOAT,
    dims,
    bytesOf(Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => v * Math.sin(i + 1))),
  );
const ints = (name: string, type: number, dims: number[], values: number[]): TensorProto => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data =
    type === DT.INT64
      ? bytesOf(BigInt64Array.from({ length: n }, (_, i) => BigInt(values[i % values.length]!)))
      : type === DT.INT32
        ? bytesOf(Int32Array.from({ length: n }, (_, i) => values[i % values.length]!))
        : type === DT.INT16
          ? bytesOf(Int16Array.from({ length: n }, (_, i) => values[i % values.length]!))
          : type === DT.UINT16
            ? bytesOf(Uint16Array.from({ length: n }, (_, i) => values[i % values.length]!))
            : type === DT.INT8
              ? bytesOf(Int8Array.from({ length: n }, (_, i) => values[i % values.length]!))
              : bytesOf(Uint8Array.from({ length: n }, (_, i) => values[i % values.length]!));
  return makeTensor(name, type, dims, data);
};

/**
 * A model X[float32, dims] → (Cast to `at`) → node → (Cast to float32) → Y. The node reads `x` (and its
 * initializers) and writes `y`; the probe's key is the node's.
 */
function probe(
  dims: number[],
  node: NodeProto,
  inits: TensorProto[],
  opts: { at?: number; opset?: number; domains?: string[]; outType?: number; then?: NodeProto } = {},
): Probe {
  const at = opts.at ?? DT.FLOAT;
  const nodes: NodeProto[] = [];
  if (at !== DT.FLOAT) nodes.push(makeNode('Cast', ['X'], ['x'], 'cast_in', { to: at }));
  else nodes.push(makeNode('Identity', ['X'], ['x'], 'in'));
  nodes.push(node);
  if (opts.then) nodes.push(opts.then); // e.g. QuantizeLinear → DequantizeLinear, so that the output is float
  const outType = opts.then ? DT.FLOAT : (opts.outType ?? at);
  nodes.push(
    outType !== DT.FLOAT
      ? makeNode('Cast', ['y'], ['Y'], 'cast_out', { to: DT.FLOAT })
      : makeNode('Identity', ['y'], ['Y'], 'out'),
  );
  const model = create(ModelProtoSchema, {
    irVersion: BigInt((opts.opset ?? 17) >= 21 ? 10 : 8),
    opsetImport: [makeOpset('', opts.opset ?? 17), ...(opts.domains ?? []).map((d) => makeOpset(d, 1))],
    graph: create(GraphProtoSchema, {
      name: 'probe',
      node: nodes,
      initializer: inits,
      input: [makeValueInfo('X', DT.FLOAT, dims)],
      output: [makeValueInfo('Y', DT.FLOAT)],
    }),
  });
  const key = opKey(node, inferElemTypes(model.graph!));
  return { key, bytes: encodeModel(model), dims };
}

function floatProbes(at: number): Probe[] {
  const h = at === DT.FLOAT16;
  const cast = (t: TensorProto) =>
    (h
      ? {
          ...t,
          dataType: DT.FLOAT16,
          rawData: bytesOf(
            Uint16Array.from(
              new Float32Array(
                t.rawData.buffer.slice(t.rawData.byteOffset, t.rawData.byteOffset + t.rawData.byteLength),
              ),
              () => 0x2e66,
            ),
          ),
        }
      : t) as TensorProto;
  const o = { at };
  return [
    probe(
      [1, 4, 8, 8],
      makeNode('Conv', ['x', 'w', 'b'], ['y'], 'op', { pads: [1, 1, 1, 1] }),
      [cast(f32('w', [4, 4, 3, 3])), cast(f32('b', [4]))],
      o,
    ),
    probe([2, 16], makeNode('MatMul', ['x', 'w'], ['y'], 'op'), [cast(f32('w', [16, 8]))], o),
    probe(
      [2, 16],
      makeNode('Gemm', ['x', 'w', 'b'], ['y'], 'op', { transB: 1 }),
      [cast(f32('w', [8, 16])), cast(f32('b', [8]))],
      o,
    ),
    probe([2, 16], makeNode('Add', ['x', 'c'], ['y'], 'op'), [cast(f32('c', [16]))], o),
    probe([2, 16], makeNode('Mul', ['x', 'c'], ['y'], 'op'), [cast(f32('c', [16]))], o),
    probe([2, 16], makeNode('Relu', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Sigmoid', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Tanh', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Erf', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('HardSigmoid', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Softmax', ['x'], ['y'], 'op', { axis: -1 }), [], o),
    probe(
      [2, 16],
      makeNode('LayerNormalization', ['x', 'g', 'b'], ['y'], 'op', { axis: -1 }),
      [cast(f32('g', [16], 1)), cast(f32('b', [16]))],
      o,
    ),
    probe([2, 16], makeNode('Transpose', ['x'], ['y'], 'op', { perm: [1, 0] }), [], o),
    probe([2, 16], makeNode('Concat', ['x', 'x'], ['y'], 'op', { axis: 0 }), [], o),
    probe([1, 4, 8, 8], makeNode('GlobalAveragePool', ['x'], ['y'], 'op'), [], o),
    probe([1, 4, 8, 8], makeNode('MaxPool', ['x'], ['y'], 'op', { kernel_shape: [2, 2], strides: [2, 2] }), [], o),
    probe([1, 4, 8, 8], makeNode('AveragePool', ['x'], ['y'], 'op', { kernel_shape: [2, 2], strides: [2, 2] }), [], o),
    probe(
      [1, 4, 8, 8],
      makeNode('Resize', ['x', '', 'scales'], ['y'], 'op', { mode: 'nearest' }),
      [makeTensor('scales', DT.FLOAT, [4], bytesOf(Float32Array.of(1, 1, 2, 2)))],
      o,
    ),
    probe(
      [16],
      makeNode('Gather', ['table', 'idx'], ['y'], 'op'),
      [cast(f32('table', [16, 4])), ints('idx', DT.INT64, [3], [1, 5, 7])],
      o,
    ),
    probe([2, 16], makeNode('Sub', ['x', 'c'], ['y'], 'op'), [cast(f32('c', [16]))], o),
    probe([2, 16], makeNode('Div', ['x', 'c'], ['y'], 'op'), [cast(f32('c', [16], 2))], o),
    probe([2, 16], makeNode('Pow', ['x', 'e'], ['y'], 'op'), [cast(f32('e', [], 2))], o),
    probe([2, 16], makeNode('Sqrt', ['x'], ['y'], 'op'), [], o),
    probe(
      [2, 16],
      makeNode('Clip', ['x', 'lo', 'hi'], ['y'], 'op'),
      [cast(f32('lo', [], -0.5)), cast(f32('hi', [], 0.5))],
      o,
    ),
    probe([2, 16], makeNode('HardSwish', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Identity', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Reshape', ['x', 'shape'], ['y'], 'op'), [ints('shape', DT.INT64, [2], [4, 8])], o),
    probe([2, 16], makeNode('Unsqueeze', ['x', 'axes'], ['y'], 'op'), [ints('axes', DT.INT64, [1], [0])], o),
    probe([1, 16], makeNode('Squeeze', ['x', 'axes'], ['y'], 'op'), [ints('axes', DT.INT64, [1], [0])], o),
    probe(
      [2, 16],
      makeNode('Slice', ['x', 'st', 'en'], ['y'], 'op'),
      [ints('st', DT.INT64, [1], [0]), ints('en', DT.INT64, [1], [1])],
      o,
    ),
    probe([1, 4, 8, 8], makeNode('Flatten', ['x'], ['y'], 'op', { axis: 1 }), [], o),
    probe([1, 4, 8, 8], makeNode('ReduceMean', ['x', 'axes'], ['y'], 'op'), [ints('axes', DT.INT64, [1], [1])], {
      ...o,
      opset: 18,
    }),
    probe(
      [1, 4, 8, 8],
      makeNode('Pad', ['x', 'pads'], ['y'], 'op'),
      [ints('pads', DT.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1])],
      o,
    ),
    probe(
      [1, 4, 8, 8],
      makeNode('ConvTranspose', ['x', 'w'], ['y'], 'op', { strides: [2, 2] }),
      [cast(f32('w', [4, 2, 2, 2]))],
      o,
    ),
  ];
}

function quantProbes(): Probe[] {
  const out: Probe[] = [];
  const types: [string, number, number[]][] = [
    ['int8', DT.INT8, [0]],
    ['uint8', DT.UINT8, [128]],
    ['int16', DT.INT16, [0]],
    ['uint16', DT.UINT16, [32768]],
    ['int4', DT.INT4, [0]],
    ['uint4', DT.UINT4, [8]],
  ];
  for (const [, t, zp] of types) {
    const wide = t === DT.INT16 || t === DT.UINT16 || t === DT.INT4 || t === DT.UINT4;
    const zpT =
      t === DT.INT4 || t === DT.UINT4 ? makeTensor('zp', t, [], Uint8Array.of(zp[0]! & 0xf)) : ints('zp', t, [], zp);
    out.push(
      probe([2, 16], makeNode('QuantizeLinear', ['x', 's', 'zp'], ['q'], 'op'), [f32('s', [], 0.05), zpT], {
        opset: wide ? 21 : 17,
        outType: t,
        then: makeNode('DequantizeLinear', ['q', 's', 'zp'], ['y'], 'dq'),
      }),
    );
    const qT =
      t === DT.INT4 || t === DT.UINT4
        ? makeTensor('q', t, [2, 16], new Uint8Array(16))
        : ints('q', t, [2, 16], [1, 2, 3]);
    out.push(
      dqProbe(
        makeNode('DequantizeLinear', ['q', 's', 'zp'], ['y'], 'op'),
        [qT, f32('s', [], 0.05), zpT],
        wide ? 21 : 17,
      ),
    );
  }
  // block-wise weights (DequantizeLinear-21 block_size)
  for (const t of [DT.INT4, DT.INT8, DT.UINT4, DT.UINT8]) {
    const narrow = t === DT.INT4 || t === DT.UINT4;
    const q = narrow ? makeTensor('q', t, [64, 8], new Uint8Array(256)) : ints('q', t, [64, 8], [1, 2, 3]);
    const signed = t === DT.INT4 || t === DT.INT8;
    const zp = signed
      ? []
      : [narrow ? makeTensor('z', t, [2, 8], new Uint8Array(8).fill(0x88)) : ints('z', t, [2, 8], [128])];
    out.push(
      dqProbe(
        makeNode('DequantizeLinear', ['q', 's', ...(signed ? [] : ['z'])], ['y'], 'op', { axis: 0, block_size: 32 }),
        [q, f32('s', [2, 8], 0.05), ...zp],
        21,
      ),
    );
  }
  out.push(
    dqProbe(
      makeNode('DequantizeLinear', ['q', 's'], ['y'], 'op'),
      [ints('q', DT.INT32, [8], [100, -200]), f32('s', [], 0.001)],
      17,
    ),
  );
  // dynamic
  out.push(probe([2, 16], makeNode('DynamicQuantizeLinear', ['x'], ['y', 's', 'z'], 'op'), [], { outType: DT.UINT8 }));
  for (const wt of [DT.INT8, DT.UINT8]) {
    out.push(
      intProbe(
        makeNode('MatMulInteger', ['xq', 'w', 'xz', 'wz'], ['acc'], 'op'),
        [ints('w', wt, [16, 8], [3, 1, 2]), ints('wz', wt, [], [wt === DT.UINT8 ? 128 : 0])],
        [2, 16],
      ),
    );
  }
  out.push(
    intProbe(
      makeNode('ConvInteger', ['xq', 'w', 'xz', 'wz'], ['acc'], 'op', { pads: [1, 1, 1, 1] }),
      [ints('w', DT.UINT8, [4, 4, 3, 3], [130, 120]), ints('wz', DT.UINT8, [], [128])],
      [1, 4, 8, 8],
    ),
  );
  // MatMulNBits (com.microsoft), 4 and 8 bits, float32 and float16 activations
  for (const [bits, at] of [
    [4, DT.FLOAT],
    [8, DT.FLOAT],
    [4, DT.FLOAT16],
  ] as const) {
    const k = 64;
    const n = 8;
    const blob = (32 * bits) / 8;
    const node = makeNode('MatMulNBits', ['x', 'b', 's'], ['y'], 'op', { K: k, N: n, bits, block_size: 32 });
    node.domain = 'com.microsoft';
    const s = makeTensor(
      's',
      at,
      [n * 2],
      at === DT.FLOAT ? bytesOf(new Float32Array(n * 2).fill(0.01)) : bytesOf(new Uint16Array(n * 2).fill(0x211e)),
    );
    out.push(
      probe([2, k], node, [makeTensor('b', DT.UINT8, [n, 2, blob], new Uint8Array(n * 2 * blob).fill(0x88)), s], {
        at,
        domains: ['com.microsoft'],
      }),
    );
  }
  // float formats' casts
  out.push(probe([2, 16], makeNode('Cast', ['x'], ['y'], 'op', { to: DT.FLOAT16 }), [], { outType: DT.FLOAT16 }));
  out.push(
    probe([2, 16], makeNode('Cast', ['x'], ['y'], 'op', { to: DT.FLOAT }), [], { at: DT.FLOAT16, outType: DT.FLOAT }),
  );
  out.push(
    probe([2, 16], makeNode('Cast', ['x'], ['y'], 'op', { to: DT.FLOAT }), [], { at: DT.BFLOAT16, outType: DT.FLOAT }),
  );
  out.push(
    probe([2, 16], makeNode('Cast', ['x'], ['y'], 'op', { to: DT.FLOAT }), [], { at: DT.INT32, outType: DT.FLOAT }),
  );
  return out;
}

/** DequantizeLinear of a constant, added to the input so that the model has a real input. */
function dqProbe(node: NodeProto, inits: TensorProto[], opset: number): Probe {
  node.output = ['d'];
  const shape = inits[0]!.dims.map(Number);
  const p = probe(shape, node, inits, { opset });
  // rebuild with an Add so the graph reads X: x + dequantized
  const add = makeNode('Add', ['x', 'd'], ['y'], 'add');
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(opset >= 21 ? 10 : 8),
    opsetImport: [makeOpset('', opset)],
    graph: create(GraphProtoSchema, {
      name: 'probe',
      node: [makeNode('Identity', ['X'], ['x'], 'in'), node, add, makeNode('Identity', ['y'], ['Y'], 'out')],
      initializer: inits,
      input: [makeValueInfo('X', DT.FLOAT, shape)],
      output: [makeValueInfo('Y', DT.FLOAT)],
    }),
  });
  return { key: p.key, bytes: encodeModel(model), dims: shape };
}

/** An integer op fed by DynamicQuantizeLinear, so the probe needs only a float input. */
function intProbe(node: NodeProto, inits: TensorProto[], dims: number[]): Probe {
  const dq = makeNode('DynamicQuantizeLinear', ['X'], ['xq', 'xs', 'xz'], 'dyn');
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [makeOpset('', 17)],
    graph: create(GraphProtoSchema, {
      name: 'probe',
      node: [dq, node, makeNode('Cast', ['acc'], ['Y'], 'cast', { to: DT.FLOAT })],
      initializer: inits,
      input: [makeValueInfo('X', DT.FLOAT, dims)],
      output: [makeValueInfo('Y', DT.FLOAT)],
    }),
  });
  return { key: opKey(node, inferElemTypes(model.graph!)), bytes: encodeModel(model), dims };
}

const probes = [...floatProbes(DT.FLOAT), ...floatProbes(DT.FLOAT16), ...quantProbes()];
const keys = new Set<string>();
for (const p of probes) {
  if (keys.has(p.key)) throw new Error(`two probes share the key ${p.key}`);
  keys.add(p.key);
}

const server = spawn(
  process.execPath,
  [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'preview', '--port', String(PORT), '--strictPort'],
  { cwd: ROOT, stdio: 'ignore' },
);
try {
  await new Promise((r) => setTimeout(r, 2500));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--enable-unsafe-webgpu',
      '--enable-features=WebMachineLearningNeuralNetwork',
    ],
  });
  const page = await browser.newPage();
  await page.goto(`http://localhost:${PORT}/`);
  const env = await page.evaluate(async () => {
    const gpu = (
      navigator as unknown as {
        gpu?: {
          requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null>;
        };
      }
    ).gpu;
    const adapter = gpu ? await gpu.requestAdapter() : null;
    return {
      ua: navigator.userAgent,
      gpu: adapter
        ? [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter(Boolean).join(' ') ||
          'unnamed adapter'
        : '',
      webnn: 'ml' in navigator,
    };
  });
  const table: Record<string, Record<'wasm' | 'webgpu' | 'webnn', boolean | null>> = {};
  for (const p of probes) table[p.key] = { wasm: null, webgpu: null, webnn: null };
  const backends: ('wasm' | 'webgpu' | 'webnn')[] = [
    'wasm',
    ...(env.gpu ? (['webgpu'] as const) : []),
    ...(env.webnn ? (['webnn'] as const) : []),
  ];
  const errors: Record<string, string> = {};
  const unavailableNotes: string[] = [];
  for (const backend of backends) {
    const models = probes.map((p) => ({ key: p.key, b64: Buffer.from(p.bytes).toString('base64'), dims: p.dims }));
    const results = (await page.evaluate(
      async ({ models, backend }) => {
        const probe = (
          window as unknown as {
            quantscopeProbe: (
              m: unknown[],
              b: string,
            ) => Promise<{ results: Record<string, { runs: boolean; error?: string }> }>;
          }
        ).quantscopeProbe;
        const list = models.map((m) => ({
          key: m.key,
          bytes: Uint8Array.from(atob(m.b64), (c) => c.charCodeAt(0)).buffer,
          sample: {
            name: m.key,
            inputs: {
              X: { kind: 'generated', gen: { type: 'float32', dims: m.dims, dist: 'uniform', a: -1, b: 1, seed: 1 } },
            },
          },
        }));
        return (await probe(list, backend)).results;
      },
      { models, backend },
    )) as Record<string, { runs: boolean; error?: string }>;
    // A backend the browser cannot create at all is "not probed" (null), not "does not run".
    const unavailable = Object.values(results).every(
      (r) => !r.runs && /not supported on this platform|no available backend/i.test(r.error ?? ''),
    );
    for (const [key, r] of Object.entries(results)) {
      table[key]![backend] = unavailable ? null : r.runs;
      if (!r.runs && r.error && !unavailable) errors[`${key} on ${backend}`] = r.error;
    }
    if (unavailable) unavailableNotes.push(`${backend}: ${Object.values(results)[0]?.error ?? 'unavailable'}`);
    console.log(`${backend}: ${Object.values(results).filter((r) => r.runs).length} of ${probes.length} run`);
  }
  await browser.close();
  const ortVersion = (
    JSON.parse(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const out = {
    onnxruntimeWeb: ortVersion,
    browser: env.ua,
    webgpuAdapter: env.gpu || 'none',
    webnn: !env.webnn
      ? 'not available in this browser: not probed'
      : (unavailableNotes.find((n) => n.startsWith('webnn')) ?? 'navigator.ml present'),
    probedAt: new Date().toISOString().slice(0, 10),
    table,
    errors,
  };
  writeFileSync(join(ROOT, 'src', 'onnx', 'forms', 'support.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log(`wrote src/onnx/forms/support.json (${probes.length} keys)`);
} finally {
  server.kill();
}
