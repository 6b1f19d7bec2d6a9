/**
 * `quantscope quantize --format tflite`: the same engine as the page. A small classifier calibrated
 * on .npy files becomes an int8 .tflite (float edges by default, int8 edges with --tflite-io int8),
 * checked through its static QDQ twin and said so, tflite-float32 needs no data (and says it was not checked), a misplaced --tflite-io is a usage error (exit 2), and a model with
 * an op TFLite lacks is refused by node and op (exit 1, nothing written).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/onnx/codec';
import { decodeTflite } from '../../src/onnx/forms/tflite';
import { BuiltinOperator, TensorType } from '../../src/onnx/forms/tflite/schema/generated';
import { makeNpy } from '../helpers/npy';
import { classifier, patternImage, withUnsupportedOp } from '../helpers/tfliteModels';
import { runCli } from '../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'quantscope-tflite-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const r = await runCli(...args);
  return { code: r.code, out: r.stdout + r.stderr };
}

describe('quantscope quantize --format tflite', () => {
  const model = join(dir, 'cls.onnx');
  const head = { w: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), b: new Float32Array(4) };
  writeFileSync(model, encodeModel(classifier(head)));
  const data = [0, 1, 2, 3].map((k) => {
    const p = join(dir, `x${k}.npy`);
    writeFileSync(p, makeNpy('<f4', [1, 1, 16, 16], patternImage(k, k)));
    return p;
  });
  /** The classifier quantized to an int8 .tflite at `out` on the .npy files, with `flags` besides. */
  const toTflite = (out: string, ...flags: string[]) =>
    cli('quantize', model, '--format', 'tflite', ...flags, '--data', ...data, '-o', out);

  it('writes an int8 file with float edges, and int8 edges on request, reporting the input parameters', async () => {
    const out = join(dir, 'cls.int8.tflite');
    const r = await toTflite(out);
    expect(r.code).toBe(0);
    expect(r.out).toContain('every op has a TFLite Micro int8 kernel: yes');
    // never silent about accuracy: the file cannot run here, its static QDQ twin is checked and named so
    expect(r.out).toMatch(
      /check: top-1 agreement [\d.]+% on output \S+, .*measured on the static QDQ export of the same ranges in onnxruntime-node, not on the \.tflite/,
    );
    const g = decodeTflite(new Uint8Array(readFileSync(out))).subgraphs![0]!;
    expect(g.tensors![g.inputs![0]!]!.type ?? 0).toBe(TensorType.FLOAT32);
    const out8 = join(dir, 'cls.io8.tflite');
    const r8 = await toTflite(out8, '--tflite-io', 'int8');
    expect(r8.out).toMatch(/inputs: x int8\[1, 16, 16, 1\] scale [\d.e-]+ zero point -?\d+/);
    const g8 = decodeTflite(new Uint8Array(readFileSync(out8))).subgraphs![0]!;
    expect(g8.tensors![g8.inputs![0]!]!.type).toBe(TensorType.INT8);
    expect(g8.tensors![g8.outputs![0]!]!.type).toBe(TensorType.INT8);
  });

  it('writes a recipe holding choices an int8 file cannot hold as the page does: int8 all the same, said so, its twin checked without them', async () => {
    const plain = join(dir, 'cls.plain.tflite');
    const recipe = join(dir, 'cls.recipe.json');
    const r = await toTflite(plain, '--write-recipe', recipe);
    expect(r.code).toBe(0);
    const check = (out: string) => out.split('\n').find((l) => l.startsWith('check: '));
    expect(check(r.out)).toMatch(/^check: top-1 agreement/);
    // as a page recipe holds them: an int16 tensor, int4 per-tensor weights, a node kept float
    const json = JSON.parse(readFileSync(recipe, 'utf8'));
    const tensor = Object.keys(json.ranges)[0]!;
    json.config = {
      ...json.config,
      weights: { ...json.config.weights, dtype: 'int4', perChannel: false },
      tensors: { [tensor]: { activations: { dtype: 'int16' } } },
      excludeNodes: ['fc'],
    };
    const doctored = join(dir, 'cls.doctored.json');
    writeFileSync(doctored, JSON.stringify(json));
    const out = join(dir, 'cls.doctored.tflite');
    const d = await cli('quantize', model, '--recipe', doctored, '--data', ...data, '-o', out);
    expect(d.code).toBe(0);
    expect(d.out).toContain(
      `note: written int8 all the same: int16 activations, int4 weights, per-tensor weights, 1 node or tensors kept float (chosen for the ONNX forms in ${doctored}; `,
    );
    expect(readFileSync(out).equals(readFileSync(plain))).toBe(true);
    // the twin is the file's choices, not the recipe's: the same figures as the plain file's check
    expect(check(d.out)).toBe(check(r.out));
  });

  it('writes FullyConnected weights per tensor by default, per output channel on request', async () => {
    /** Scales of the FULLY_CONNECTED weight in a .tflite file. */
    const fcScales = (path: string): number => {
      const m = decodeTflite(new Uint8Array(readFileSync(path)));
      const g = m.subgraphs![0]!;
      const fc = g.operators!.find((o) => {
        const c = m.operator_codes![o.opcode_index ?? 0]!;
        return Math.max(c.builtin_code ?? 0, c.deprecated_builtin_code ?? 0) === BuiltinOperator.FULLY_CONNECTED;
      })!;
      return g.tensors![fc.inputs![1]!]!.quantization!.scale!.length;
    };
    const perTensor = join(dir, 'cls.fc1.tflite');
    expect((await toTflite(perTensor)).code).toBe(0);
    expect(fcScales(perTensor)).toBe(1);
    const perChannel = join(dir, 'cls.fc4.tflite');
    const r = await toTflite(perChannel, '--tflite-fc-per-channel');
    expect(r.code).toBe(0);
    expect(fcScales(perChannel)).toBe(4);
    const misplaced = await cli(
      'quantize',
      model,
      '--format',
      'qdq',
      '--tflite-fc-per-channel',
      '--data',
      ...data,
      '-o',
      join(dir, 'b.onnx'),
    );
    expect(misplaced.code).toBe(2);
    expect(misplaced.out).toContain('--tflite-fc-per-channel');
  });

  it('refuses bad usage and unsupported ops by name, writing nothing', async () => {
    const bad = await cli(
      'quantize',
      model,
      '--format',
      'qdq',
      '--tflite-io',
      'int8',
      '--data',
      ...data,
      '-o',
      join(dir, 'a.onnx'),
    );
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--tflite-io');
    const erf = join(dir, 'erf.onnx');
    writeFileSync(erf, encodeModel(withUnsupportedOp()));
    const out = join(dir, 'erf.tflite');
    // a float file: nothing to compare here, and said so
    const f32 = join(dir, 'cls.f32.tflite');
    const rf = await cli('quantize', model, '--format', 'tflite-float32', '-o', f32);
    expect(rf.code).toBe(0);
    expect(rf.out).toContain('note: the export was not checked against the float model: ');
    expect(rf.out).toContain('which the command line cannot run (it has no TFLite interpreter)');
    const r = await cli('quantize', erf, '--format', 'tflite-float32', '-o', out);
    expect(r.code).toBe(1);
    expect(r.out).toContain('node "the_erf" (Erf)');
    expect(existsSync(out)).toBe(false);
  });
});
