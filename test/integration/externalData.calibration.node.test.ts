/**
 * Calibration of a model with external data (the tiny decoder; the 2.5 GB one is in test/large): forced
 * into passes over subsets of the tensors it gives the one-pass statistics; the memory estimate splits
 * into passes that fit or refuses in words, in the engine and on the command line.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { onePassAndPasses } from '../helpers/multiPass';
import { makeNpy } from '../helpers/npy';
import { runCli } from '../helpers/cli';
import { ROOT } from '../helpers/sample';
import { openWithData, TOKENS, writeTinyDecoder } from '../helpers/tinyDecoderFiles';

const run = promisify(execFile);
const cli = (...args: string[]) => run('node', [join(ROOT, 'bin', 'quantscope.mjs'), ...args], { cwd: dir });

let dir: string;
let extPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qs-extdata-calib-'));
  extPath = await writeTinyDecoder(dir, 'decoder.onnx', true);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('external data', () => {
  it('calibration forced into 3 passes over subsets of the tensors gives the one-pass statistics exactly', async () => {
    const feeds = (i: number) => ({
      input_ids: {
        type: 'int64' as const,
        data: BigInt64Array.from(TOKENS.map((t) => BigInt((t * (i + 3)) % 96))),
        dims: [1, TOKENS.length],
      },
    });
    const r = await onePassAndPasses(openWithData(extPath), { count: 3, feeds: async (i) => feeds(i) }, 3);
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
