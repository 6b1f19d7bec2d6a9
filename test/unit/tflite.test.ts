/**
 * The TFLite writer: the generated schema code is what the generator makes from the committed
 * schema.fbs; a tiny model's int8 file decoded back equals the golden dump (tensors, quantization
 * parameters, op codes and options); the int8 spec's rules hold on it; integer-I/O files have int8
 * inputs and outputs; unsupported ops are refused by node name and op before any work.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core';
import { f32 } from '../../src/core/rounding';
import { buildQdqModel, calibrationTensors, encodeModel, planQuantization, type TensorRange } from '../../src/onnx';
import {
  decodeTflite,
  exportTflite,
  refusedNodes,
  TFLITE_MICRO,
  tfliteInt8HeldConfig,
  tfliteInt8Unheld,
  type TfliteCalibration,
} from '../../src/onnx/forms/tflite';
import { BuiltinOperator, TensorType, type Model, type Tensor } from '../../src/onnx/forms/tflite/schema/generated';
import { generate } from '../../scripts/gen-tflite-schema';
import { schemaFiles } from '../../scripts/tfliteSchemaFiles';
import { tinyConvNet } from '../helpers/models';
import { classifier, opsZoo, withUnsupportedOp } from '../helpers/tfliteModels';
import type { ModelProto } from '../../src/onnx';

const ROOT = join(import.meta.dirname, '..', '..');
const SCHEMA_DIR = join(ROOT, 'src', 'onnx', 'forms', 'tflite', 'schema');
const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden', 'tflite');

/** Made-up but fixed ranges for every tensor the plan calibrates and every graph output. */
function fixedCalibration(model: ModelProto, config: QuantConfig = DEFAULT_CONFIG): TfliteCalibration {
  const plan = planQuantization(model, config);
  const ranges = new Map<string, TensorRange | null>();
  const names = calibrationTensors(model, plan);
  names.forEach((t, i) => ranges.set(t, { rmin: -1 - (i % 3) * 0.5, rmax: 2 + (i % 4) * 0.75 }));
  return { plan, ranges, config };
}

const opName = (m: Model, i: number): string => {
  const code = m.operator_codes![i]!.builtin_code ?? 0;
  return Object.entries(BuiltinOperator).find(([, v]) => v === code)![0];
};

/** A readable dump of a decoded file: what the golden holds (buffers by size, not bytes). */
function dump(m: Model): unknown {
  const g = m.subgraphs![0]!;
  const tname = (i: number) => (i < 0 ? null : g.tensors![i]!.name);
  return {
    version: m.version,
    operator_codes: m.operator_codes!.map((c, i) => `${opName(m, i)} v${c.version ?? 1}`),
    inputs: [...(g.inputs ?? [])].map(tname),
    outputs: [...(g.outputs ?? [])].map(tname),
    tensors: g.tensors!.map((t: Tensor) => ({
      name: t.name,
      shape: [...(t.shape ?? [])],
      type: Object.entries(TensorType).find(([, v]) => v === (t.type ?? 0))![0],
      bytes: t.buffer ? (m.buffers![t.buffer]!.data?.length ?? 0) : 0,
      ...(t.quantization
        ? {
            scale: [...(t.quantization.scale ?? [])],
            zero_point: [...(t.quantization.zero_point ?? [])],
            dim: t.quantization.quantized_dimension ?? 0,
          }
        : {}),
    })),
    operators: g.operators!.map((o) => ({
      op: opName(m, o.opcode_index ?? 0),
      inputs: [...(o.inputs ?? [])].map(tname),
      outputs: [...(o.outputs ?? [])].map(tname),
      ...(o.builtin_options ? { options: o.builtin_options } : {}),
    })),
  };
}

function checkGolden(name: string, value: unknown): void {
  const path = join(GOLDEN, `${name}.json`);
  const text = `${JSON.stringify(value, null, 1)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, text);
  expect(existsSync(path), `golden ${path} is missing (UPDATE_GOLDEN=1 writes it)`).toBe(true);
  expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(path, 'utf8')));
}

describe('the schema code generator', () => {
  // A schema of our own in the grammar TFLite's schema.fbs uses (TFLite's own file is not kept here:
  // see src/onnx/forms/tflite/schema/README.md). flatc's rules: a field's slot is its declaration
  // index, a union takes two slots (its `_type` byte, then the value), enum values count up from the
  // last given one.
  const schema = `
    namespace demo;
    enum Kind : byte { A = 0, B, C = 7, D }
    table Small { x:int; }
    table Other { y:float = 1.5; }
    union Payload { Small, Other }
    table Root {
      version:uint;
      names:[string];
      payload:Payload;
      data:[ubyte] (force_align: 16);
      kind:Kind = B;
    }
    file_identifier "DEMO";
    root_type Root;
  `;
  const made = generate(schema);

  it('numbers enums and slots as flatc does (a union takes two)', () => {
    expect(made).toContain('FILE_IDENTIFIER = "DEMO"');
    expect(made).toMatch(/B: 1,\s*C: 7,\s*D: 8/);
    expect(made).toMatch(/name: "version", slot: 0, kind: 'scalar', scalar: 'uint32', default: 0/);
    expect(made).toMatch(/name: "names", slot: 1, kind: 'strings'/);
    expect(made).toMatch(/name: "payload", slot: 3, kind: 'union', union: \["Small","Other"\]/);
    expect(made).toMatch(/name: "data", slot: 4, kind: 'scalars', scalar: 'uint8', align: 16/);
    expect(made).toMatch(/name: "kind", slot: 5, kind: 'scalar', scalar: 'int8', default: 1/);
    expect(made).toMatch(/name: "y", slot: 0, kind: 'scalar', scalar: 'float32', default: 1.5/);
    expect(made).toMatch(/Root: \{\s*slots: 6/);
  });

  it('keeps the committed TFLite code generated (header, identifier, known op codes)', () => {
    const committed = readFileSync(join(SCHEMA_DIR, 'generated.ts'), 'utf8');
    expect(committed.startsWith('// Generated by scripts/gen-tflite-schema.ts')).toBe(true);
    expect(committed).toContain("FILE_IDENTIFIER = 'TFL3'");
    expect(BuiltinOperator.TRANSPOSE_CONV).toBe(67);
    expect(BuiltinOperator.CONV_2D).toBe(3);
  });

  it('lays the generated code out in parts of at most 300 lines, re-exported by generated.ts', () => {
    const files = schemaFiles(made);
    expect(Object.keys(files).sort()).toEqual([
      'enums1.ts',
      'generated.ts',
      'interfaces1.ts',
      'layout.ts',
      'tables1.ts',
    ]);
    expect(files['generated.ts']).toContain('FILE_IDENTIFIER = "DEMO"');
    expect(files['generated.ts']).toMatch(/TABLES: Readonly<Record<string, TableLayout>> = \{ \.\.\.TABLES_1 \}/);
    expect(files['tables1.ts']).toMatch(/Root: \{\s*slots: 6/);
    expect(files['interfaces1.ts']).toContain("import type { Payload } from './enums1';");
    for (const f of readdirSync(SCHEMA_DIR).filter((n) => n.endsWith('.ts')))
      expect(readFileSync(join(SCHEMA_DIR, f), 'utf8').split('\n').length, f).toBeLessThanOrEqual(300);
  });
});

describe('TFLite int8 export of a tiny model', () => {
  const calib = fixedCalibration(tinyConvNet());
  const { bytes, report } = exportTflite(tinyConvNet(), { precision: 'int8' }, calib);
  const m = decodeTflite(bytes);
  const g = m.subgraphs![0]!;
  const byName = (n: string) => g.tensors!.find((t) => t.name === n)!;

  it('decodes back to the golden dump', () => {
    checkGolden('tiny-int8', dump(m));
  });

  it('follows the int8 spec: per-channel symmetric conv weights, int32 bias at input × weight scale, per-tensor FC', () => {
    const w = byName('W');
    expect(w.type).toBe(TensorType.INT8);
    expect(w.shape).toEqual([4, 3, 3, 3]); // [O, H, W, I]
    expect(w.quantization!.scale).toHaveLength(4);
    expect(w.quantization!.zero_point).toEqual([0, 0, 0, 0]);
    expect(w.quantization!.quantized_dimension ?? 0).toBe(0);
    const codes = new Int8Array(m.buffers![w.buffer!]!.data!.buffer, m.buffers![w.buffer!]!.data!.byteOffset, 108);
    expect(Math.min(...codes)).toBeGreaterThanOrEqual(-127); // the restricted range [-127, 127]
    const x = byName('X_int8');
    const b = byName('B');
    expect(b.type).toBe(TensorType.INT32);
    b.quantization!.scale!.forEach((s, c) =>
      expect(s).toBe(f32(x.quantization!.scale![0]! * w.quantization!.scale![c]!)),
    );
    expect(b.quantization!.zero_point).toEqual([0, 0, 0, 0]);
    const fc = byName('G');
    expect(fc.quantization!.scale).toHaveLength(1); // per tensor by default
    expect(fc.quantization!.zero_point).toEqual([0]);
    // every quantized tensor carries one zero point per scale
    for (const t of g.tensors!)
      if (t.quantization) expect(t.quantization.zero_point!.length).toBe(t.quantization.scale!.length);
  });

  it('has float edges with QUANTIZE/DEQUANTIZE by default, and int8 edges on request', () => {
    expect(g.tensors![g.inputs![0]!]!.type ?? 0).toBe(TensorType.FLOAT32);
    expect(report.ops.map((o) => o.op)).toEqual(expect.arrayContaining(['QUANTIZE', 'DEQUANTIZE']));
    const io8 = exportTflite(tinyConvNet(), { precision: 'int8', io: 'int8' }, calib);
    const g8 = decodeTflite(io8.bytes).subgraphs![0]!;
    expect(g8.tensors![g8.inputs![0]!]!.type).toBe(TensorType.INT8);
    expect(g8.tensors![g8.outputs![0]!]!.type).toBe(TensorType.INT8);
    expect(io8.report.ops.map((o) => o.op)).not.toContain('QUANTIZE');
    expect(io8.report.inputs[0]).toMatchObject({ type: 'int8', shape: [1, 8, 8, 3] });
    expect(io8.report.inputs[0]!.scale).toBeGreaterThan(0);
  });

  it('reports the arena, the ops and their TFLite Micro kernels', () => {
    // the largest live set: the float input, its int8 copy... at most input + conv output
    expect(report.arenaBytes).toBeGreaterThan(1 * 8 * 8 * 4);
    expect(report.arenaBytes).toBeLessThan(192 * 4 + 192 + 256 + 64);
    expect(report.ops.find((o) => o.op === 'CONV_2D')!.micro).toEqual({ registered: true, int8: true });
    expect(report.microReady).toBe(true);
    expect(TFLITE_MICRO.source).toMatch(/tflite-micro.*[0-9a-f]{40}/);
  });
});

describe('TFLite int8 spec-fixed parameters and layout', () => {
  const model = opsZoo();
  const { bytes, report } = exportTflite(model, { precision: 'int8', io: 'int8' }, fixedCalibration(model));
  const m = decodeTflite(bytes);
  const g = m.subgraphs![0]!;
  const producedBy = (op: string) =>
    g.operators!.filter((o) => opName(m, o.opcode_index ?? 0) === op).map((o) => g.tensors![o.outputs![0]!]!);

  it('decodes back to the golden dump', () => {
    checkGolden('ops-zoo-int8', dump(m));
  });

  it('uses the spec parameters for LOGISTIC (1/256, -128) and TANH (1/128, 0)', () => {
    expect(producedBy('LOGISTIC')[0]!.quantization).toMatchObject({ scale: [1 / 256], zero_point: [-128] });
    expect(producedBy('TANH')[0]!.quantization).toMatchObject({ scale: [1 / 128], zero_point: [0] });
  });

  it("gives CONCATENATION, pools, resizes and shape ops their input's parameters (QUANTIZE where inputs differ)", () => {
    const cat = g.operators!.find((o) => opName(m, o.opcode_index ?? 0) === 'CONCATENATION')!;
    const out = g.tensors![cat.outputs![0]!]!.quantization!;
    for (const i of cat.inputs!)
      expect(g.tensors![i]!.quantization).toMatchObject({ scale: out.scale, zero_point: out.zero_point });
    for (const op of ['MAX_POOL_2D', 'AVERAGE_POOL_2D', 'RESIZE_BILINEAR', 'RESHAPE', 'STRIDED_SLICE', 'PAD']) {
      const o = g.operators!.find((x) => opName(m, x.opcode_index ?? 0) === op)!;
      expect(g.tensors![o.outputs![0]!]!.quantization, op).toEqual(g.tensors![o.inputs![0]!]!.quantization);
    }
    expect(report.ops.map((o) => o.op)).toContain('QUANTIZE'); // a concat input requantized
  });

  it('writes rank-4 tensors NHWC and a TRANSPOSE only where the layout needs one', () => {
    expect(g.tensors![g.inputs![0]!]!.shape).toEqual([1, 8, 8, 4]);
    expect(producedBy('TRANSPOSE_CONV')[0]!.shape).toEqual([1, 16, 16, 4]);
    // the model's Transpose swaps H and W (kept, remapped to NHWC), and the rank-4 → rank-3 Reshape
    // of a C=4, H·W>1 tensor goes through ONNX order once: two TRANSPOSEs in all
    const transposes = g.operators!.filter((o) => opName(m, o.opcode_index ?? 0) === 'TRANSPOSE');
    expect(transposes).toHaveLength(2);
  });
});

describe('refusals', () => {
  it('names every unsupported node and its op, before any work', () => {
    expect(refusedNodes(withUnsupportedOp())).toEqual([
      { node: 'the_erf', opType: 'Erf', reason: 'Erf has no TFLite builtin in this writer' },
    ]);
    expect(() => exportTflite(withUnsupportedOp(), { precision: 'float32' })).toThrow(/node "the_erf" \(Erf\)/);
  });

  it('needs calibrated ranges for int8, and names a tensor without one', () => {
    const m = classifier({ w: new Float32Array(64), b: new Float32Array(4) });
    expect(() => exportTflite(m, { precision: 'int8' })).toThrow(/calibrate first/);
    const calib = fixedCalibration(m);
    const ranges = new Map(calib.ranges);
    ranges.delete('logits');
    expect(() => exportTflite(m, { precision: 'int8' }, { ...calib, ranges })).toThrow(
      /tensor "logits" has no calibrated range/,
    );
  });
});

describe('choices a TFLite int8 file cannot hold (said beside the page’s file)', () => {
  it('names each, from the model level and from overrides; the defaults and the method hold', () => {
    expect(tfliteInt8Unheld(DEFAULT_CONFIG)).toEqual([]);
    expect(
      tfliteInt8Unheld({ ...DEFAULT_CONFIG, activations: { ...DEFAULT_CONFIG.activations, method: 'entropy' } }),
    ).toEqual([]);
    expect(
      tfliteInt8Unheld({
        ...DEFAULT_CONFIG,
        activations: { dtype: 'int16', symmetric: true },
        weights: { ...DEFAULT_CONFIG.weights, perChannel: false },
        opTypes: { Conv: { weights: { dtype: 'int4' } } },
        tensors: { t: { activations: { dtype: 'uint8' } }, u: { exclude: true } },
        excludeNodes: ['a', 'b'],
      }),
    ).toEqual([
      'int16 activations',
      'uint8 activations',
      'symmetric activations',
      'int4 weights',
      'per-tensor weights',
      '3 nodes or tensors kept float',
    ]);
  });

  it('leaves them out of the static QDQ twin the command line checks in the file’s place', () => {
    const m = classifier({ w: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), b: new Float32Array(4) });
    const plain: QuantConfig = { ...DEFAULT_CONFIG, activations: { ...DEFAULT_CONFIG.activations, method: 'entropy' } };
    const chosen: QuantConfig = {
      ...plain,
      activations: { ...plain.activations, symmetric: true },
      weights: { ...DEFAULT_CONFIG.weights, dtype: 'int4', perChannel: false },
      opTypes: { Conv: { weights: { dtype: 'int4' }, activations: { dtype: 'int16', reduceRange: true } } },
      tensors: { logits: { activations: { dtype: 'uint8' } } },
      nodes: { fc: { exclude: true } },
      excludeNodes: ['conv1'],
    };
    const { ranges } = fixedCalibration(m);
    const twin = (c: QuantConfig) => {
      const held = tfliteInt8HeldConfig(c, { fullyConnectedPerChannel: true });
      return encodeModel(buildQdqModel(m, planQuantization(m, held), ranges, held).model);
    };
    // what the file holds stays (the method, reduce-range: the writer's parameters); the rest is gone
    const kept = { ...plain, opTypes: { Conv: { activations: { reduceRange: true } } } };
    expect(tfliteInt8Unheld(tfliteInt8HeldConfig(chosen, { fullyConnectedPerChannel: true }))).toEqual([]);
    expect(tfliteInt8HeldConfig(chosen, { fullyConnectedPerChannel: true })).toEqual(kept);
    expect(twin(chosen)).toEqual(twin(kept));
    expect(twin(chosen)).not.toEqual(encodeModel(buildQdqModel(m, planQuantization(m, chosen), ranges, chosen).model));
    // FullyConnected per tensor, as the file writes it by default
    expect(tfliteInt8HeldConfig(plain).opTypes).toEqual({
      MatMul: { weights: { perChannel: false } },
      Gemm: { weights: { perChannel: false } },
    });
  });
});
