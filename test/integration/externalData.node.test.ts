/**
 * External data and streaming on tiny models (the 2.5 GB versions are in test/large): a decoder with
 * its weights in a data file opens without reading them, a missing or short data file is named, a
 * weight-only export streams tensor by tensor (a counter, not a timing), and the external-data writer
 * (forced by its threshold) writes what onnxruntime-node loads.
 */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core/config';
import { compareTensors } from '../../src/core/metrics';
import {
  blobSource,
  blobSpool,
  decodeModel,
  decodeModelWithExternalData,
  exportForm,
  externalDataFiles,
  newStreamStats,
  prepareModel,
  spillLargeTensors,
  writeModel,
  type ModelProto,
} from '../../src/onnx';
import { fileSink, fileSource, fileSpool } from '../../src/runtime/nodeFiles';
import { createNodeSessionFromPath, nodeOrt } from '../../src/runtime/ortNode';
import { DECODER_TINY, decoderModel, writeGenerated } from '../helpers/bigModels';
import { onePassAndPasses } from '../helpers/multiPass';
import { makeNpy } from '../helpers/npy';
import { runCli } from '../helpers/cli';
import { ROOT } from '../helpers/sample';

const run = promisify(execFile);
const cli = (...args: string[]) => run('node', [join(ROOT, 'bin', 'quantscope.mjs'), ...args], { cwd: dir });

let dir: string;
let extPath: string;
let singlePath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qs-extdata-'));
  extPath = (await writeGenerated(decoderModel(DECODER_TINY), dir, 'decoder.onnx', true)).path;
  singlePath = (await writeGenerated(decoderModel(DECODER_TINY), dir, 'decoder-single.onnx', false)).path;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKENS = [3, 17, 42, 5, 88, 1];

async function logits(path: string): Promise<Float32Array> {
  const s = await createNodeSessionFromPath(path);
  const ids = new nodeOrt.Tensor('int64', BigInt64Array.from(TOKENS.map(BigInt)), [1, TOKENS.length]);
  const out = await s.run({ input_ids: ids } as never);
  await s.release();
  return (out.logits as unknown as { data: Float32Array }).data;
}

function open(path: string, name = 'decoder.onnx'): ModelProto {
  const bytes = new Uint8Array(readFileSync(path));
  const files = externalDataFiles(decodeModel(bytes, name, undefined, 'keep')).map((f) => fileSource(join(dir, f), f));
  return decodeModelWithExternalData(bytes, name, files).model;
}

/** Stream a form into `out` (+ its data file when external): the CLI's path. */
async function streamExport(model: ModelProto, config: QuantConfig, out: string, externalAbove?: number) {
  const stats = newStreamStats();
  const spool = fileSpool(`${out}.spool`);
  const onnx = fileSink(out);
  const data = fileSink(`${out}_data`);
  try {
    const prepared = prepareModel(model).model;
    const r = spillLargeTensors(spool, stats, () => exportForm(prepared, config), 1024);
    const w = await writeModel(r.model, onnx, data, {
      dataFileName: `${out.split('/').pop()}_data`,
      ...(externalAbove !== undefined ? { externalAbove } : {}),
    });
    onnx.commit();
    if (w.external) data.commit();
    else data.abort();
    return { stats, report: r.report, written: w };
  } finally {
    spool.close();
  }
}

describe('external data', () => {
  it('opens a model whose weights are in a data file without reading them, and runs it as the single-file model does', async () => {
    const onnxSize = statSync(extPath).size;
    expect(onnxSize).toBeLessThan(20_000); // the graph only
    expect(statSync(`${extPath}_data`).size).toBeGreaterThan(200_000);
    const model = open(extPath);
    const lazy = model.graph!.initializer.filter((t) => t.dataLocation === 1);
    expect(lazy.length).toBe(2 + DECODER_TINY.layers * 6);
    expect(lazy.every((t) => t.rawData.length === 0)).toBe(true);
    expect(await logits(extPath)).toEqual(await logits(singlePath));
  });

  it('names a missing data file and a short one', async () => {
    const bytes = new Uint8Array(readFileSync(extPath));
    expect(() => decodeModelWithExternalData(bytes, 'decoder.onnx', [])).toThrow(
      expect.objectContaining({ code: 'EXTERNAL_DATA_MISSING', message: expect.stringMatching(/decoder\.onnx_data/) }),
    );
    expect(() => decodeModel(bytes, 'decoder.onnx')).toThrow(expect.objectContaining({ code: 'EXTERNAL_DATA' }));
    const short = join(dir, 'short');
    writeFileSync(short, readFileSync(`${extPath}_data`).subarray(0, 1000));
    truncateSync(short, 1000);
    expect(() => decodeModelWithExternalData(bytes, 'decoder.onnx', [fileSource(short, 'decoder.onnx_data')])).toThrow(
      expect.objectContaining({
        code: 'EXTERNAL_DATA_SHORT',
        message: expect.stringMatching(/decoder\.onnx_data is 1000 bytes/),
      }),
    );
  });

  it('parses a single-file model without copying its weights (views into the file buffer)', () => {
    const bytes = new Uint8Array(readFileSync(singlePath));
    const model = decodeModel(bytes, 'decoder-single.onnx');
    const big = model.graph!.initializer.filter((t) => t.rawData.length > 1024);
    expect(big.length).toBeGreaterThan(5);
    for (const t of big) expect(t.rawData.buffer).toBe(bytes.buffer);
  });

  it('streams MatMulNBits q4 tensor by tensor into an external-data output that onnxruntime runs', async () => {
    const config: QuantConfig = {
      ...DEFAULT_CONFIG,
      form: { kind: 'weight-only', format: 'matmulnbits', dtype: 'int4', symmetric: true, blockSize: 32 },
    };
    const out = join(dir, 'q4.onnx');
    const { stats, report, written } = await streamExport(open(extPath), config, out, 0);
    const matmuls = DECODER_TINY.layers * 6 + 1;
    expect(report.quantizedNodes.length).toBe(matmuls);
    // every float weight read once, every new packed weight spilled as made: one tensor held at a time
    expect(stats.tensorsRead).toBe(matmuls);
    expect(stats.tensorsSpilled).toBeGreaterThanOrEqual(matmuls);
    expect(stats.maxHeld).toBe(1);
    expect(written.external).toBe(true);
    expect(statSync(`${out}_data`).size).toBe(written.dataBytes);
    const ref = await logits(singlePath);
    const q = compareTensors(ref, await logits(out));
    expect(q.cosine).toBeGreaterThan(0.99);
    expect(q.sqnrDb).toBeGreaterThan(12);
  });

  it('without a spool the same export holds every new weight: the counter sees it', () => {
    const config: QuantConfig = {
      ...DEFAULT_CONFIG,
      form: { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null },
    };
    const stats = newStreamStats();
    const prepared = prepareModel(open(extPath)).model;
    spillLargeTensors(undefined, stats, () => exportForm(prepared, config), 1024);
    expect(stats.tensorsSpilled).toBe(0);
    expect(stats.maxHeld).toBeGreaterThan(DECODER_TINY.layers * 6);
  });

  it('writes float16 in one file under the threshold and int8 weight-only with external data over it', async () => {
    const f16 = join(dir, 'f16.onnx');
    const r16 = await streamExport(
      open(extPath),
      { ...DEFAULT_CONFIG, form: { kind: 'float16', keepIoTypes: true } },
      f16,
    );
    expect(r16.written.external).toBe(false);
    expect(() => statSync(`${f16}_data`)).toThrow();
    expect(compareTensors(await logits(singlePath), await logits(f16)).sqnrDb).toBeGreaterThan(40);
    const i8 = join(dir, 'i8.onnx');
    const config: QuantConfig = {
      ...DEFAULT_CONFIG,
      form: { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null },
    };
    const r8 = await streamExport(open(extPath), config, i8, 50_000);
    expect(r8.written.external).toBe(true);
    expect(r8.stats.maxHeld).toBe(1);
    expect(compareTensors(await logits(singlePath), await logits(i8)).sqnrDb).toBeGreaterThan(25);
  });

  it('streams q4f16 and bfloat16 too: one weight held, outputs that onnxruntime runs', async () => {
    const ref = await logits(singlePath);
    for (const form of [{ kind: 'q4f16', blockSize: 32 }, { kind: 'bfloat16' }] as const) {
      const out = join(dir, `${form.kind}.onnx`);
      const r = await streamExport(open(extPath), { ...DEFAULT_CONFIG, form }, out, 0);
      expect(r.stats.maxHeld).toBe(1);
      expect(r.stats.tensorsSpilled).toBeGreaterThan(DECODER_TINY.layers * 6);
      expect(compareTensors(ref, await logits(out)).cosine).toBeGreaterThan(0.99);
    }
  });

  it('the page path: Blob sources and Blob parts write the same bytes as the files do', async () => {
    const bytes = new Uint8Array(readFileSync(extPath));
    const dataBlob = new Blob([readFileSync(`${extPath}_data`)]);
    const model = decodeModelWithExternalData(bytes, 'decoder.onnx', [blobSource(dataBlob, 'decoder.onnx_data')]).model;
    const onnxParts: Blob[] = [];
    const dataParts: Blob[] = [];
    const w = await writeModel(
      model,
      { write: (b) => void onnxParts.push(new Blob([b as Uint8Array<ArrayBuffer>])) },
      { write: (b) => void dataParts.push(new Blob([b as Uint8Array<ArrayBuffer>])) },
      { dataFileName: 'decoder.onnx_data', externalAbove: 0 },
    );
    expect(w.external).toBe(true);
    const out = new Uint8Array(await new Blob(onnxParts).arrayBuffer());
    expect(Buffer.from(out).equals(readFileSync(extPath))).toBe(true);
    expect(Buffer.from(await new Blob(dataParts).arrayBuffer()).equals(readFileSync(`${extPath}_data`))).toBe(true);
    // a spool of Blob parts reads back what went in, at its offsets
    const spool = blobSpool('s');
    const a = spool.append(Uint8Array.of(1, 2, 3));
    const b = spool.append(Uint8Array.of(4, 5));
    expect([a, b, spool.size]).toEqual([0, 3, 5]);
    expect(Array.from(await spool.read(3, 2))).toEqual([4, 5]);
  });

  it('quantscope quantize reads a model with external data and writes MatMulNBits, with --external-data beside it', async () => {
    const out = join(dir, 'cli-q4.onnx');
    const r = await cli(
      'quantize',
      extPath,
      '--format',
      'matmulnbits',
      '--block-size',
      '32',
      '--external-data',
      '-o',
      out,
    );
    expect(r.stdout).toMatch(/weights in cli-q4\.onnx_data/);
    const sizes = statSync(extPath).size + statSync(`${extPath}_data`).size;
    expect((await cli('inspect', extPath)).stdout).toContain(
      `decoder.onnx: ${sizes} bytes (weights in decoder.onnx_data)`,
    );
    expect(statSync(`${out}_data`).size).toBeGreaterThan(10_000);
    expect(compareTensors(await logits(singlePath), await logits(out)).cosine).toBeGreaterThan(0.99);
    // a missing data file is named, and nothing is written
    const lone = join(dir, 'lone');
    rmSync(lone, { recursive: true, force: true });
    await run('mkdir', [lone]);
    writeFileSync(join(lone, 'decoder.onnx'), readFileSync(extPath));
    const failed = await cli(
      'quantize',
      join(lone, 'decoder.onnx'),
      '--format',
      'fp16',
      '-o',
      join(lone, 'o.onnx'),
    ).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/keeps its weights in "decoder\.onnx_data", which is not in/),
    });
    expect(() => statSync(join(lone, 'o.onnx'))).toThrow();
  });

  it('calibration forced into 3 passes over subsets of the tensors gives the one-pass statistics exactly', async () => {
    const feeds = (i: number) => ({
      input_ids: {
        type: 'int64' as const,
        data: BigInt64Array.from(TOKENS.map((t) => BigInt((t * (i + 3)) % 96))),
        dims: [1, TOKENS.length],
      },
    });
    const r = await onePassAndPasses(open(extPath), { count: 3, feeds: async (i) => feeds(i) }, 3);
    expect(r.passCount).toBe(3);
    expect(r.sessions).toBe(3);
    expect(Object.keys(r.multi).sort()).toEqual([...r.tensors].sort());
    expect(r.tensors.length).toBeGreaterThan(20);
    for (const t of r.tensors) {
      expect(r.multi[t]!.minmax).toEqual(r.one[t]!.minmax);
      expect(Array.from(r.multi[t]!.histogram.counts)).toEqual(Array.from(r.one[t]!.histogram.counts));
    }
  });

  it('the calibration memory estimate splits into passes that fit, and refuses in words when one tensor cannot', async () => {
    const { planCalibrationPasses } = await import('../../src/runtime/calibrationPasses');
    const sizes = new Map([...Array(10).keys()].map((k) => [`t${k}`, 100 * 1024 ** 2]));
    const fits = planCalibrationPasses({ weightBytes: 1024 ** 3, activationBytes: sizes, budgetBytes: 3 * 1024 ** 3 });
    expect(fits.onePassBytes).toBeGreaterThan(3 * 1024 ** 3);
    expect(fits.passes.length).toBeGreaterThan(1);
    expect(fits.peakBytes).toBeLessThanOrEqual(3 * 1024 ** 3);
    expect(fits.note).toMatch(/passes over subsets of the 10 tensors \(one pass would need/);
    expect(() =>
      planCalibrationPasses({ weightBytes: 2 * 1024 ** 3, activationBytes: sizes, budgetBytes: 4 * 1024 ** 3 }),
    ).toThrow(
      expect.objectContaining({
        code: 'MODEL_TOO_LARGE',
        message: expect.stringMatching(/needs at least 4\.29 GiB .* gives 4\.00 GiB/),
      }),
    );
  });

  it("the command line estimates calibration's memory before it starts: passes when one would not fit, a refusal with the numbers and nothing written when one tensor cannot", async () => {
    const { readModel } = await import('../../src/cli/files');
    const { prepareWithData } = await import('../../src/cli/prepareData');
    const { calibrationMemoryPlan } = await import('../../src/cli/calibration');
    const { calibrationTensors, planQuantization } = await import('../../src/onnx');
    const data = [0, 1].map((i) => {
      const p = join(dir, `mem${i}.npy`);
      writeFileSync(p, makeNpy('<i8', [1, TOKENS.length], BigInt64Array.from(TOKENS.map((t) => BigInt((t + i) % 96)))));
      return p;
    });
    // the estimate the command makes (the page's function, with this process's copies of the weights)
    const { model } = readModel(extPath);
    const { prepared, samples } = prepareWithData(model, extPath, DEFAULT_CONFIG, {}, data, {
      chain: false,
      autoFix: true,
    });
    const tensors = calibrationTensors(prepared, planQuantization(prepared, DEFAULT_CONFIG));
    const one = calibrationMemoryPlan(prepared, tensors, samples!, Number.MAX_SAFE_INTEGER);
    expect(one.passes.length).toBe(1);
    // the weights are in the data file, opened by path: counted once
    expect(one.onePassBytes).toBeGreaterThan(statSync(`${extPath}_data`).size);
    const split = calibrationMemoryPlan(prepared, tensors, samples!, one.onePassBytes - 1);
    expect(split.passes.length).toBeGreaterThan(1);
    expect(split.peakBytes).toBeLessThan(one.onePassBytes);

    const out = join(dir, 'mem.int8.onnx');
    const passes = await runCli(
      'quantize',
      extPath,
      '--data',
      ...data,
      '--max-memory',
      String(one.onePassBytes - 1),
      '-o',
      out,
    );
    expect(passes.code).toBe(0);
    expect(passes.stderr).toMatch(/calibrating in \d+ passes over subsets of the \d+ tensors \(one pass would need/);
    expect(statSync(out).size).toBeGreaterThan(0);
    rmSync(out);

    const refused = await runCli('quantize', extPath, '--data', ...data, '--max-memory', '64K', '-o', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /calibration needs at least 3\d\d\.\d KiB .* this runtime gives 64\.0 KiB\. Give more with --max-memory/,
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.mem.int8'))).toEqual([]);
  });

  it('quantscope calibrate --calibration-passes 3 says so and gives the one-pass ranges', async () => {
    const data = [0, 1, 2].map((i) => {
      const p = join(dir, `ids${i}.npy`);
      const ids = BigInt64Array.from(TOKENS.map((t) => BigInt((t * (i + 5)) % 96)));
      writeFileSync(p, makeNpy('<i8', [1, TOKENS.length], ids));
      return p;
    });
    const stats = async (passes: string[]) => {
      const out = join(dir, `stats${passes.length}.json`);
      const r = await cli('calibrate', extPath, '--data', ...data, ...passes, '-o', out);
      const json = JSON.parse(readFileSync(out, 'utf8')) as { tensors: Record<string, { min: number; max: number }> };
      return { stderr: r.stderr, tensors: json.tensors };
    };
    const one = await stats([]);
    const three = await stats(['--calibration-passes', '3']);
    expect(three.stderr).toMatch(/calibrating in 3 passes over subsets of the \d+ tensors \(as asked\)/);
    expect(Object.keys(three.tensors).sort()).toEqual(Object.keys(one.tensors).sort());
    // onnxruntime fuses differently with other outputs asked for: equal to float32 rounding
    for (const [t, s] of Object.entries(one.tensors)) {
      expect(three.tensors[t]!.min).toBeCloseTo(s.min, 5);
      expect(three.tensors[t]!.max).toBeCloseTo(s.max, 5);
    }
  });
});
