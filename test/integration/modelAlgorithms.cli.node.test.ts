/**
 * SmoothQuant, equalization and bias correction on the command line (quantscope quantize and tune), on a
 * transformer block with outlier activation channels built here: int8 activations with SmoothQuant reach a
 * higher output SQNR than without; bad flags are refused in words; the recipe reproduces the same bytes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { QuantConfig } from '../../src/core/config';
import { compareTensors } from '../../src/core/metrics';
import { encodeModel } from '../../src/onnx';
import { randoms, run } from '../helpers/algorithmNets';
import { runCli } from '../helpers/cli';
import { outlierBlock } from '../helpers/models';
import { makeNpy } from '../helpers/npy';

describe('SmoothQuant and the flags on quantscope quantize', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantscope-modelalgos-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const modelPath = join(dir, 'block.onnx');
  writeFileSync(modelPath, encodeModel(outlierBlock()));
  const x = (seed: number) => randoms(16 * 32, seed);
  const files = [0, 1, 2, 3, 4, 5].map((i) => {
    const p = join(dir, `x${i}.npy`);
    writeFileSync(p, makeNpy('<f4', [1, 16, 32], x(300 + i)));
    return p;
  });
  const sqnr = async (path: string) => {
    let total = 0;
    for (const seed of [401, 402, 403]) {
      const feeds = { X: { data: x(seed), dims: [1, 16, 32] } };
      const f = await run(outlierBlock(), feeds);
      const q = await run(new Uint8Array(readFileSync(path)), feeds);
      total += compareTensors(f.Y!, q.Y!).sqnrDb / 3;
    }
    return total;
  };

  it('int8 activations with SmoothQuant: a higher output SQNR, folded into the LayerNormalization', async () => {
    const plain = join(dir, 'plain.onnx');
    const smooth = join(dir, 'smooth.onnx');
    expect((await runCli('quantize', modelPath, '--data', ...files, '-o', plain)).code).toBe(0);
    const r = await runCli('quantize', modelPath, '--data', ...files, '--smoothquant', '-o', smooth);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/SmoothQuant: 1 inputs smoothed \(ln → proj_a\/proj_b, folded into LayerNormalization\)/);
    const s0 = await sqnr(plain);
    const s1 = await sqnr(smooth);
    // measured: 16.2 dB without, 36.6 dB with (alpha 0.5); the Relu output (no outliers) is left alone
    expect(s1).toBeGreaterThan(s0 + 15);
  });

  it('refuses a bad alpha, SmoothQuant without data, and bias correction on a form without quantized weights', async () => {
    const out = join(dir, 'bad.onnx');
    const a = await runCli(
      'quantize',
      modelPath,
      '--data',
      ...files,
      '--smoothquant',
      '--smoothquant-alpha',
      '1.5',
      '-o',
      out,
    );
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--smoothquant-alpha 1.5: a fraction in \[0, 1\]/);
    const b = await runCli('quantize', modelPath, '--format', 'fp16', '--bias-correction', '-o', out);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--bias-correction corrects/);
    const c = await runCli('quantize', modelPath, '--format', 'weight-only', '--smoothquant', '-o', out);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/SmoothQuant needs calibration data/);
    expect(c.stderr).not.toMatch(/at .*\.(ts|mjs):\d+/);
  });

  it('--equalize --smoothquant --bias-correction: the recipe records them and reproduces the same bytes', async () => {
    const first = join(dir, 'all.onnx');
    const again = join(dir, 'again.onnx');
    const recipe = join(dir, 'all.recipe.json');
    const flags = ['--equalize', '--smoothquant', '--smoothquant-alpha', '0.6', '--bias-correction'];
    const r = await runCli('quantize', modelPath, '--data', ...files, ...flags, '-o', first, '--write-recipe', recipe);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/bias correction: 3 biases corrected/);
    const saved = JSON.parse(readFileSync(recipe, 'utf8')) as { config: QuantConfig };
    expect(saved.config.algorithms).toMatchObject({ equalize: true, smoothquant: { alpha: 0.6 } });
    expect(saved.config.weights.biasCorrection).toBe(true);
    expect((await runCli('quantize', modelPath, '--data', ...files, '--recipe', recipe, '-o', again)).code).toBe(0);
    expect(Buffer.compare(readFileSync(first), readFileSync(again))).toBe(0);
  });

  it('quantscope tune takes the flags: the starting point smoothed, the written file bias-corrected', async () => {
    const out = join(dir, 'tuned.onnx');
    const r = await runCli(
      'tune',
      modelPath,
      '--data',
      ...files,
      '--smoothquant',
      '--bias-correction',
      '--target-sqnr',
      '30',
      '--json',
      '-o',
      out,
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { config: QuantConfig; before: { value: number } };
    expect(summary.config.algorithms?.smoothquant).toEqual({});
    expect(summary.config.weights.biasCorrection).toBe(true);
    // the starting point is the smoothed model: its SQNR is SmoothQuant's (36.6 dB measured), not 16.2
    expect(summary.before.value).toBeGreaterThan(30);
    expect(await sqnr(out)).toBeGreaterThan(30);
  });
});
