/**
 * The weight-SQNR guard on an export too large to run here (issue 13): `quantscope quantize` writing
 * with external data (--external-data stands for "past 2 GiB", so a generated decoder of a few hundred
 * KB shows it) checks each quantized weight, read back from what it wrote one at a time, against the
 * float weight, and reports the worst. A decoder whose weights are uniform passes at int8 per channel;
 * with one weight made heavy-tailed (two entries of each column at 10x the rest: int4's 7 levels round
 * the rest to 0 or one step), int4 per channel misses the 20 dB target and names that weight first.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core/config';
import { decodeModelWithExternalData, prepareModel } from '../../src/onnx';
import { fileSource } from '../../src/runtime/nodeFiles';
import { writeExportStreamed } from '../../src/runtime/exportFile';
import { DECODER_TINY, decoderModel, writeGenerated } from '../helpers/bigModels';
import { runCli } from '../helpers/cli';
import { withHeavyTailedWeight } from '../helpers/guardModels';

let dir: string;
let plain: string;
let broken: string;
const BROKEN = 'l0_up';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qs-guard-weights-'));
  plain = (await writeGenerated(decoderModel(DECODER_TINY), dir, 'decoder.onnx', true)).path;
  const m = withHeavyTailedWeight(decoderModel(DECODER_TINY), BROKEN);
  broken = (await writeGenerated(m, dir, 'broken.onnx', true)).path;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quantize = (model: string, out: string, ...flags: string[]) =>
  runCli('quantize', model, '--format', 'weight-only', ...flags, '--external-data', '-o', join(dir, out));

describe('weight SQNR guard (external data)', () => {
  it('int8 per channel passes, every weight checked from the written file', async () => {
    const r = await quantize(plain, 'int8.onnx', '--weights', 'int8');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/weights in int8\.onnx_data/);
    // 2 layers x 6 MatMuls, the lm_head and the embedding Gather
    const check =
      /check: weight SQNR (\d+\.\d) dB on worst weight (\S+), meets the 20\.0 dB target \((\d+) quantized weights checked tensor by tensor/.exec(
        r.stdout,
      );
    expect(check, r.stdout + r.stderr).not.toBeNull();
    expect(Number(check![1])).toBeGreaterThan(30);
    expect(Number(check![3])).toBe(14);
    expect(r.stderr).not.toMatch(/not checked/);
  });

  it('a heavy-tailed weight at int4 per channel misses the target, named as the worst', async () => {
    const r = await quantize(broken, 'int4.onnx', '--weights', 'int4');
    expect(r.code, r.stderr).toBe(0); // a warning, as the output guard's: the file is written
    const miss =
      /warning: the export misses the target: weight SQNR (\d+\.\d) dB on worst weight (\S+), under the 20\.0 dB target/.exec(
        r.stderr,
      );
    expect(miss, r.stdout + r.stderr).not.toBeNull();
    expect(miss![2]).toBe(BROKEN);
    expect(Number(miss![1])).toBeLessThan(20);
    expect(r.stderr).toMatch(new RegExp(`worst weights: ${BROKEN} \\(MatMul_l0_up_mm\\) \\d+\\.\\d dB, `));
    // the same model at int8 keeps that weight above the target
    const int8 = await quantize(broken, 'int8-broken.onnx', '--weights', 'int8');
    expect(int8.stdout).toMatch(/check: weight SQNR \d+\.\d dB on worst weight \S+, meets the 20\.0 dB target/);
  });

  it("the page's streamed export (the model worker's function) carries the same verdict", async () => {
    // a file source where the worker has a Blob one: the form reads synchronously (FileReaderSync there)
    const bytes = new Uint8Array(readFileSync(broken));
    const data = fileSource(`${broken}_data`, 'broken.onnx_data');
    const model = decodeModelWithExternalData(bytes, 'broken.onnx', [data]).model;
    const config: QuantConfig = {
      ...DEFAULT_CONFIG,
      form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: null },
    };
    const file = await writeExportStreamed(prepareModel(model).model, config, 'broken.int4.onnx');
    expect(file.dataFile?.name).toBe('broken.int4.onnx_data');
    const v = file.weightGuard?.verdict;
    expect(v, file.weightGuard?.note ?? '').toBeTruthy();
    expect(v).toMatchObject({ metric: 'weight SQNR', output: BROKEN, passed: false, target: 20 });
    expect(v!.source).toMatch(/^14 quantized weights checked tensor by tensor.*as written with broken.int4.onnx_data/);
  });
});
