/**
 * The command line, run as a user runs it (node bin/quantscope.mjs, onnxruntime-node underneath),
 * on PP-OCRv4 det and a built transformer: every command, the recipe round trip to the same bytes,
 * exit codes and bad input.
 */
import * as ort from 'onnxruntime-node';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import { bytesOf, encodeModel, makeNode, makeTensor } from '../../src/onnx';
import { sqnr } from '../../src/core/metrics';
import { mulberry32, normalSampler } from '../../src/core/random';
import { tensorRange } from '../../src/cli/range';
import { buildModel, onnxruntimeNodeAborter, tinyTransformer } from '../helpers/models';
import { makeNpy } from '../helpers/npy';
import { num, referenceCases } from '../helpers/reference';
import { docFeeds, ROOT } from '../helpers/sample';
import { runCli as cli, sha256File } from '../helpers/cli';

const DET = join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_det_infer.onnx');
const dir = mkdtempSync(join(tmpdir(), 'quantscope-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = sha256File;
const data = join(dir, 'docs');
mkdirSync(data);
for (const f of ['doc-01.png', 'doc-02.png']) copyFileSync(join(ROOT, 'public', 'samples', 'det', f), join(data, f));

describe('quantscope', () => {
  it('inspect --json: the page summary, with the model sha256', async () => {
    const r = await cli('inspect', DET, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { sha256: string; quantizedNodes: unknown[]; opset: number };
    expect(j.sha256).toBe(sha(DET));
    expect(j.quantizedNodes.length).toBeGreaterThan(60);
    expect(j.opset).toBe(11);
  });

  it('calibrate writes the statistics; quantize rebuilds the same bytes from its own recipe', async () => {
    const stats = join(dir, 'stats.json');
    const c = await cli('calibrate', DET, '--data', data, '--method', 'percentile', '-o', stats);
    expect(c.code).toBe(0);
    const st = JSON.parse(readFileSync(stats, 'utf8')) as {
      samples: number;
      statisticsFold: string;
      tensors: Record<string, { range: number[] | null; histogram: { counts: number[] } }>;
    };
    expect(st.samples).toBe(2);
    // the built command starts its fold worker (dist-cli/foldWorker.mjs) beside it
    expect(st.statisticsFold).toMatch(/^statistics folded in a second worker, overlapping/);
    expect(Object.keys(st.tensors).length).toBeGreaterThan(200);

    const out = join(dir, 'det.int8.onnx');
    const recipe = join(dir, 'det.recipe.json');
    const q = await cli('quantize', DET, '--data', data, '-o', out, '--write-recipe', recipe);
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/static QDQ/);
    const again = join(dir, 'det.again.onnx');
    const r = await cli('quantize', DET, '--recipe', recipe, '-o', again);
    expect(r.code).toBe(0);
    expect(sha(again)).toBe(sha(out));
    // the file runs and agrees with float on a held-out document
    const x = docFeeds(14).x;
    const runOne = async (bytes: Uint8Array) => {
      const s = await ort.InferenceSession.create(bytes);
      return (await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) }))[s.outputNames[0]!]!
        .data as Float32Array;
    };
    expect(
      sqnr(await runOne(new Uint8Array(readFileSync(DET))), await runOne(new Uint8Array(readFileSync(out)))),
    ).toBeGreaterThan(8);

    // eval: per-output figures as JSON
    const ev = await cli('eval', DET, out, '--data', data, '--json');
    expect(ev.code).toBe(0);
    const rows = JSON.parse(ev.stdout) as { sqnrDb: number; cosine: number }[];
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.cosine).toBeGreaterThan(0.85); // measured 0.895 with 2 calibration documents
  }, 240_000);

  it('quantize with flags: MatMulNBits on a transformer needs no data', async () => {
    const model = join(dir, 'transformer.onnx');
    writeFileSync(model, encodeModel(tinyTransformer()));
    const out = join(dir, 'transformer.q4.onnx');
    const r = await cli('quantize', model, '--format', 'matmulnbits', '--block-size', '32', '-o', out);
    expect(r.code).toBe(0);
    expect(readFileSync(out).length / readFileSync(model).length).toBeLessThan(0.3);
    expect(r.stdout).toMatch(/MatMulNBits/);
  });

  it("range --method entropy --bins 128 --quantized-bins 128 is onnxruntime's entropy calibrator", async () => {
    const e = referenceCases().gaussian!.ort.entropy_u8!;
    const file = join(ROOT, 'test', 'fixtures', 'reference', e.spec.data as string);
    const r = await cli(
      'range',
      file,
      '--method',
      'entropy',
      '--bins',
      '128',
      '--quantized-bins',
      '128',
      '--dtype',
      'uint8',
      '--json',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { rmin: number; rmax: number; scale: number; zeroPoint: number };
    expect([j.rmin, j.rmax]).toEqual((e.result.thresholds as unknown[]).map(num));
    const qp = e.result.qparams as { scale: number; zero_point: number };
    expect([j.scale, j.zeroPoint]).toEqual([qp.scale, qp.zero_point]);
    const pc = await cli('range', file, '--per-channel', '--axis', '1', '--symmetric', '--json');
    expect((JSON.parse(pc.stdout) as { scale: number[] }).scale).toHaveLength(4);
    // distribution: onnxruntime's float8 E4M3FN scale
    const d = referenceCases().gaussian!.ort.distribution!;
    const dist = JSON.parse((await cli('range', file, '--method', 'distribution', '--json')).stdout) as {
      scale: number;
      std: number;
    };
    expect(dist.std).toBe(num(d.result.std));
    expect(dist.scale).toBe(num((d.result as { float8e4m3fn: { scale: number } }).float8e4m3fn.scale));
  });

  it('range reads a .npy of any version, payload alignment and dtype into the same range as in-process', async () => {
    // the command reads the file into the kernels' memory (rangeCommand.ts, readNpyBytes): the values it
    // folds there must be the file's, wherever its header puts the payload
    const n = normalSampler(mulberry32(21));
    const x = Float32Array.from({ length: 3 * 8192 + 5 }, () => n() * 2 + 0.5);
    const opts = {
      method: 'entropy',
      dtype: 'int8',
      symmetric: false,
      reduceRange: false,
      convention: 'onnxruntime',
      bins: 2048,
    } as const;
    const expected = tensorRange(x, opts);
    // a header numpy would not write (padded to 64 bytes): the payload at byte 10 + 121 = 131
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${x.length},), }`;
    const header = new TextEncoder().encode(dict.padEnd(120, ' ') + '\n');
    const odd = new Uint8Array(10 + header.length + x.byteLength);
    odd.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
    odd.set(header, 10);
    odd.set(new Uint8Array(x.buffer), 10 + header.length);
    const files: Record<string, Uint8Array> = {
      'v1.npy': makeNpy('<f4', [x.length], x),
      'v2.npy': makeNpy('<f4', [x.length], x, { version: 2 }),
      'v3.npy': makeNpy('<f4', [1, x.length], x, { version: 3 }),
      'odd.npy': odd,
      'f8.npy': makeNpy('<f8', [x.length], Float64Array.from(x)),
    };
    for (const [name, bytes] of Object.entries(files)) {
      writeFileSync(join(dir, name), bytes);
      const r = await cli('range', join(dir, name), '--method', 'entropy', '--json');
      expect([name, r.code, r.stderr]).toEqual([name, 0, '']);
      expect(JSON.parse(r.stdout)).toEqual(expected);
    }
    // a file cut short, and one that is not a .npy: said, exit 1
    writeFileSync(join(dir, 'short.npy'), files['v1.npy']!.subarray(0, 128 + 4 * 1000 + 2));
    const short = await cli('range', join(dir, 'short.npy'), '--json');
    expect([short.code, short.stderr]).toEqual([
      1,
      expect.stringMatching(/short\.npy: truncated data: 24581 elements/),
    ]);
    writeFileSync(join(dir, 'text.npy'), 'not numpy at all');
    const text = await cli('range', join(dir, 'text.npy'), '--json');
    expect([text.code, text.stderr]).toEqual([1, expect.stringMatching(/text\.npy: not a \.npy file \(bad magic\)/)]);
  });
});

describe('bad input', () => {
  it('usage errors exit 2; failures exit 1 naming the file and the field; nothing half-written', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('quantize', DET)).code).toBe(2); // no -o
    const bad = await cli('quantize', DET, '--weights', 'int3', '-o', join(dir, 'x.onnx'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--weights int3: expected one of int8, uint8, int4, uint4/);
    // a flag quantscope does not know is refused by name, not ignored
    const unknown = await cli('quantize', DET, '--algoritm', 'gptq', '-o', join(dir, 'x.onnx'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown flag --algoritm/);

    // a recipe from another model: refused unless --force
    const model = join(dir, 'transformer2.onnx');
    writeFileSync(model, encodeModel(tinyTransformer({ layers: 1 })));
    const recipe = join(dir, 'other.recipe.json');
    expect(
      (await cli('quantize', model, '--format', 'fp16', '-o', join(dir, 't.onnx'), '--write-recipe', recipe)).code,
    ).toBe(0);
    const mismatch = await cli('quantize', DET, '--recipe', recipe, '-o', join(dir, 'y.onnx'));
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(
      /the recipe is for transformer2.onnx \(sha256 [0-9a-f]{64}\), not .*ch_PP-OCRv4_det_infer.onnx/,
    );
    expect((await cli('quantize', DET, '--recipe', recipe, '--force', '-o', join(dir, 'y.onnx'))).code).toBe(0);

    // an unknown recipe version, and a field of the wrong type
    const r = JSON.parse(readFileSync(recipe, 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'v9.json'), JSON.stringify({ ...r, quantscope: 9 }));
    const v9 = await cli('quantize', model, '--recipe', join(dir, 'v9.json'), '-o', join(dir, 'z.onnx'));
    expect(v9.stderr).toMatch(/recipe version 9 is not one this Quantscope reads/);
    writeFileSync(
      join(dir, 'badfield.json'),
      JSON.stringify({ ...r, config: { ...(r.config as object), activations: { dtype: 'int3', symmetric: false } } }),
    );
    const bf = await cli('quantize', model, '--recipe', join(dir, 'badfield.json'), '-o', join(dir, 'z.onnx'));
    expect(bf.code).toBe(1);
    expect(bf.stderr).toMatch(/\$\.config\.activations\.dtype: must be one of/);

    // a data file of the wrong shape names the file, the input and both shapes
    const wrong = join(dir, 'wrong');
    mkdirSync(wrong);
    writeFileSync(join(wrong, 'bad.npy'), makeNpy('<f4', [2, 5], new Float32Array(2 * 5)));
    const shape = await cli('calibrate', DET, '--data', wrong, '-o', join(dir, 's.json'));
    expect(shape.code).toBe(1);
    expect(shape.stderr).toMatch(/bad\.npy has shape \[2, 5\] but input "x" takes \[/);
    // JPEG is the page's to decode
    writeFileSync(join(dir, 'photo.jpg'), new Uint8Array([0xff, 0xd8, 0xff]));
    expect((await cli('calibrate', DET, '--data', join(dir, 'photo.jpg'), '-o', join(dir, 's.json'))).stderr).toMatch(
      /photo\.jpg: JPG images are decoded by the page/,
    );
    // a directory with no usable files
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect((await cli('calibrate', DET, '--data', empty, '-o', join(dir, 's.json'))).stderr).toMatch(
      /no usable data files/,
    );
    // an output path that cannot be written: nothing is left behind
    const unwritable = join(dir, 'no', 'such', 'dir', 'out.onnx');
    const w = await cli('quantize', model, '--format', 'fp16', '-o', unwritable);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/out\.onnx: cannot be written/);
    expect(existsSync(unwritable)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  it("a sample the model fails on: one line, naming the sample and the model, without onnxruntime-node's log", async () => {
    // det adds a 3-wide and a 4-wide map on a 48x4 image: onnxruntime-node fails in the run
    const narrow = join(dir, 'narrow.npy');
    writeFileSync(
      narrow,
      makeNpy(
        '<f4',
        [1, 3, 48, 4],
        Float32Array.from({ length: 576 }, (_, i) => Math.sin(i)),
      ),
    );
    const q = await cli('quantize', DET, '--data', narrow, '-o', join(dir, 'narrow.onnx'));
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(
      /^quantscope quantize: sample 1 of 1 \(narrow\.npy\), inputs x float32 \[1, 3, 48, 4\]: the model failed on it: .*Attempting to broadcast/,
    );
    const e = await cli('eval', DET, DET, '--data', narrow);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(
      /^quantscope eval: sample 1 of 1 \(narrow\.npy\), .*: ch_PP-OCRv4_det_infer\.onnx failed on it/,
    );
    // said once: onnxruntime-node's own log line (its build path, a C++ signature) is not printed first
    for (const r of [q, e]) {
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\[E:onnxruntime|onnxruntime::|\.h:\d+/);
    }
    expect(existsSync(join(dir, 'narrow.onnx'))).toBe(false);
  }, 120_000);

  it('a model onnxruntime-node refuses, or crashes on: a coded error, exit 1, never a stack trace', async () => {
    const x = join(dir, 'x.npy');
    writeFileSync(
      x,
      makeNpy(
        '<f4',
        [1, 4, 8],
        Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)),
      ),
    );
    // refused: Add of a float and an int64 (onnxruntime-node throws)
    const refused = join(dir, 'refused.onnx');
    writeFileSync(
      refused,
      encodeModel(
        buildModel({
          inputs: [['X', [1, 4, 8]]],
          outputs: [['Y', [1, 4, 8]]],
          inits: [makeTensor('k', 7, [], bytesOf(BigInt64Array.of(2n)))],
          nodes: [makeNode('Add', ['X', 'k'], ['Y'], 'add')],
        }),
      ),
    );
    const e = await cli('eval', refused, refused, '--data', x);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(
      /^quantscope eval: onnxruntime-node cannot load refused\.onnx: .*bound to different types/,
    );
    // the same refusal where no command names the file (the export's check): the message, coded, no stack
    const q = await cli('quantize', refused, '--format', 'fp16', '--data', x, '-o', join(dir, 'r16.onnx'));
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(
      /quantscope quantize: .*r16\.onnx was written but not checked against the float model: .*bound to different types/,
    );
    for (const r of [e, q]) expect(r.stderr).not.toMatch(/\n\s+at /);
    // crashed: onnxruntime-node aborts on an assertion while loading (SIGABRT); the command ends coded
    const crash = join(dir, 'aborts.onnx');
    writeFileSync(crash, encodeModel(onnxruntimeNodeAborter()));
    // the command after a flag is watched too
    const c = await cli('--json', 'eval', crash, crash, '--data', x);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/quantscope eval: error NATIVE_CRASH: onnxruntime-node crashed \(SIGABRT\)/);
    // with external data it opens through a header written beside its data: the crash leaves none behind
    const folder = join(dir, 'external-crash');
    mkdirSync(folder);
    const m = onnxruntimeNodeAborter();
    const s = m.graph!.initializer.find((t) => t.name === 's')!;
    writeFileSync(join(folder, 'aborts.bin'), s.rawData);
    s.rawData = new Uint8Array(0);
    s.dataLocation = TensorProto_DataLocation.EXTERNAL;
    s.externalData = [
      ['location', 'aborts.bin'],
      ['offset', '0'],
      ['length', '4'],
    ].map(([key, value]) => create(StringStringEntryProtoSchema, { key, value }));
    writeFileSync(join(folder, 'aborts.onnx'), encodeModel(m));
    const e2 = await cli('eval', join(folder, 'aborts.onnx'), join(folder, 'aborts.onnx'), '--data', x);
    expect(e2.stderr).toMatch(/error NATIVE_CRASH/);
    expect(readdirSync(folder).sort()).toEqual(['aborts.bin', 'aborts.onnx']);
  }, 60_000);
});
