/**
 * External data and streaming on tiny models (the 2.5 GB versions are in test/large): a decoder with
 * its weights in a data file opens without reading them, a missing or short data file is named, a
 * weight-only export streams tensor by tensor (a counter, not a timing), and the external-data writer
 * (forced by its threshold) writes what onnxruntime-node loads. Calibrating such a model in passes:
 * externalData.calibration.node.test.ts.
 */
import {
  mkdirSync,
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
  newStreamStats,
  prepareModel,
  spillLargeTensors,
  writeModel,
  type ModelProto,
} from '../../src/onnx';
import { writeExportStreamed } from '../../src/cli/writeExport';
import { fileSink, fileSource, fileSpool } from '../../src/runtime/nodeFiles';
import { createNodeSessionFromPath, nodeOrt } from '../../src/runtime/ortNode';
import { DECODER_TINY } from '../helpers/bigModels';
import { ROOT } from '../helpers/sample';
import { openWithData, TOKENS, writeTinyDecoder } from '../helpers/tinyDecoderFiles';

const run = promisify(execFile);
const cli = (...args: string[]) => run('node', [join(ROOT, 'bin', 'quantscope.mjs'), ...args], { cwd: dir });

let dir: string;
let extPath: string;
let singlePath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qs-extdata-'));
  extPath = await writeTinyDecoder(dir, 'decoder.onnx', true);
  singlePath = await writeTinyDecoder(dir, 'decoder-single.onnx', false);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function logits(path: string): Promise<Float32Array> {
  const s = await createNodeSessionFromPath(path);
  const ids = new nodeOrt.Tensor('int64', BigInt64Array.from(TOKENS.map(BigInt)), [1, TOKENS.length]);
  const out = await s.run({ input_ids: ids } as never);
  await s.release();
  return (out.logits as unknown as { data: Float32Array }).data;
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
    const model = openWithData(extPath);
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

  it('names an output it cannot rename into place (a directory there), coded, the temporary removed', () => {
    const at = join(dir, 'taken');
    mkdirSync(at);
    const sink = fileSink(at);
    sink.write(Uint8Array.of(1, 2, 3));
    expect(() => sink.commit()).toThrow(
      expect.objectContaining({ code: 'BAD_DATA', message: `${at}: cannot be written (EISDIR)` }),
    );
    expect(readdirSync(dir).filter((f) => f.startsWith('.taken'))).toEqual([]);
  });

  it('leaves the files an earlier export left as they were when the .onnx cannot be renamed into place', async () => {
    // a directory where the .onnx goes: the data file is renamed in first, so the old one must come back
    const sub = mkdtempSync(join(dir, 'pair-'));
    const out = join(sub, 'pair.onnx');
    mkdirSync(out);
    writeFileSync(`${out}_data`, 'an earlier export');
    const config: QuantConfig = {
      ...DEFAULT_CONFIG,
      form: { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null },
    };
    const form = () => exportForm(prepareModel(openWithData(extPath)).model, config);
    for (const forceExternal of [true, false]) {
      await expect(writeExportStreamed(out, form, { forceExternal })).rejects.toThrow(
        expect.objectContaining({ code: 'BAD_DATA', message: `${out}: cannot be written (EISDIR)` }),
      );
      expect(readFileSync(`${out}_data`, 'utf8')).toBe('an earlier export');
      expect(readdirSync(sub).sort()).toEqual(['pair.onnx', 'pair.onnx_data']); // no temporary left
    }
    // and where it can, the pair replaces the earlier data file
    rmSync(out, { recursive: true });
    const w = await writeExportStreamed(out, form, { forceExternal: true });
    expect(w.external).toBe(true);
    expect(statSync(`${out}_data`).size).toBeGreaterThan(1000);
    expect(readdirSync(sub).sort()).toEqual(['pair.onnx', 'pair.onnx_data']);
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
    const { stats, report, written } = await streamExport(openWithData(extPath), config, out, 0);
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
    const prepared = prepareModel(openWithData(extPath)).model;
    spillLargeTensors(undefined, stats, () => exportForm(prepared, config), 1024);
    expect(stats.tensorsSpilled).toBe(0);
    expect(stats.maxHeld).toBeGreaterThan(DECODER_TINY.layers * 6);
  });

  it('writes float16 in one file under the threshold and int8 weight-only with external data over it', async () => {
    const f16 = join(dir, 'f16.onnx');
    const r16 = await streamExport(
      openWithData(extPath),
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
    const r8 = await streamExport(openWithData(extPath), config, i8, 50_000);
    expect(r8.written.external).toBe(true);
    expect(r8.stats.maxHeld).toBe(1);
    expect(compareTensors(await logits(singlePath), await logits(i8)).sqnrDb).toBeGreaterThan(25);
  });

  it('streams q4f16 and bfloat16 too: one weight held, outputs that onnxruntime runs', async () => {
    const ref = await logits(singlePath);
    for (const form of [{ kind: 'q4f16', blockSize: 32 }, { kind: 'bfloat16' }] as const) {
      const out = join(dir, `${form.kind}.onnx`);
      const r = await streamExport(openWithData(extPath), { ...DEFAULT_CONFIG, form }, out, 0);
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
});
