/**
 * Export forms on a 100+ MB float model the bench builds itself (a wide MLP with seeded random
 * weights, never committed): for each form, the time to build and write the file, in MB/s of float
 * weights (target >= 100), and peak memory over the float model's size (target < 3x: live heap and
 * ArrayBuffer bytes sampled every 5 ms, the float model itself included). The file is written as parts (encodeModelParts), with the
 * raw tensor bytes passed through, never concatenated.
 *
 *   npx tsx bench/forms.ts            (or as part of npm run bench)
 */
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema } from 'onnx-buf';
import { DEFAULT_CONFIG, type ExportForm } from '../src/core/config';
import { mulberry32 } from '../src/core/random';
import {
  bytesOf,
  encodeModelParts,
  exportForm,
  makeNode,
  makeOpset,
  makeTensor,
  makeValueInfo,
  type ModelProto,
} from '../src/onnx';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;

/** x[1, W] → (MatMul W×W → Add → Relu) × layers → y: layers·W² float32 weights. */
export function wideMlp(width = 2048, layers = 6): ModelProto {
  const rand = mulberry32(7);
  const inits = [];
  const nodes = [];
  let h = 'x';
  for (let l = 0; l < layers; l++) {
    const w = new Float32Array(width * width);
    for (let i = 0; i < w.length; i++) w[i] = (rand() - 0.5) * 0.05;
    inits.push(makeTensor(`w${l}`, 1, [width, width], bytesOf(w)));
    inits.push(makeTensor(`b${l}`, 1, [width], bytesOf(new Float32Array(width).fill(0.01))));
    nodes.push(makeNode('MatMul', [h, `w${l}`], [`mm${l}`], `matmul${l}`));
    nodes.push(makeNode('Add', [`mm${l}`, `b${l}`], [`add${l}`], `add${l}`));
    nodes.push(makeNode('Relu', [`add${l}`], [`h${l}`], `relu${l}`));
    h = `h${l}`;
  }
  return create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [makeOpset('', 17)],
    graph: create(GraphProtoSchema, {
      name: 'mlp',
      node: [...nodes, makeNode('Identity', [h], ['y'], 'out')],
      initializer: inits,
      input: [makeValueInfo('x', 1, [1, width])],
      output: [makeValueInfo('y', 1, [1, width])],
    }),
  });
}

const FORMS: [string, ExportForm][] = [
  ['weight-only-int8', { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null }],
  ['weight-only-int4-b32', { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 32 }],
  [
    'matmulnbits-4bit-b32',
    { kind: 'weight-only', format: 'matmulnbits', dtype: 'int4', symmetric: true, blockSize: 32 },
  ],
  ['dynamic-int8', { kind: 'dynamic', ops: ['MatMul', 'Gemm'] }],
  ['float16', { kind: 'float16', keepIoTypes: true }],
  ['bfloat16', { kind: 'bfloat16' }],
];

export function benchForms(emit: Emit): void {
  const model = wideMlp();
  const floatMb = model.graph!.initializer.reduce((a, t) => a + t.rawData.length, 0) / 2 ** 20;
  emit('forms_float_model_mb', floatMb, 'MiB');
  for (const [name, form] of FORMS) {
    if (global.gc) global.gc();
    // live JavaScript memory: heap plus ArrayBuffers (RSS never shrinks after a collection)
    const live = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = live();
    let peak = base;
    const timer = setInterval(() => (peak = Math.max(peak, live())), 5);
    const t0 = performance.now();
    const r = exportForm(model, { ...DEFAULT_CONFIG, form });
    peak = Math.max(peak, live());
    const parts = encodeModelParts(r.model);
    const ms = performance.now() - t0;
    peak = Math.max(peak, live());
    clearInterval(timer);
    const outMb = parts.reduce((a, p) => a + p.length, 0) / 2 ** 20;
    emit(`export_${name}_mb_per_s`, floatMb / (ms / 1000), 'MB/s', {
      target: 100,
      ms: Math.round(ms),
      output_mb: Number(outMb.toFixed(1)),
    });
    // peak live memory during the export, the float model (already in memory) included, over its size
    emit(`export_${name}_peak_over_model`, (peak - base) / 2 ** 20 / floatMb + 1, 'ratio', {
      target: 3,
      peak_mb: Math.round(peak / 2 ** 20),
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchForms((name, value, unit, extra = {}) =>
    console.log(JSON.stringify({ name, value: Number(value.toFixed(3)), unit, ...extra })),
  );
}
