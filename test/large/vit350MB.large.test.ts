/**
 * The ViT-B/16-sized model (344 MB of float weights, one file), built into a temporary folder: it
 * parses without copying its weights, and calibration forced into passes over subsets of the
 * tensors gives the one-pass statistics exactly.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/onnx';
import { VIT_B16, vitModel, writeGenerated } from '../helpers/bigModels';
import { onePassAndPasses } from '../helpers/multiPass';

let dir: string;
let path: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qs-large-vit-'));
  const w = await writeGenerated(vitModel(VIT_B16), dir, 'vit.onnx', false);
  path = w.path;
  expect(w.result.external).toBe(false);
  expect(w.result.onnxBytes).toBeGreaterThan(340e6);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pixels(i: number): Float32Array {
  const n = 3 * VIT_B16.image ** 2;
  return Float32Array.from({ length: n }, (_, k) => Math.sin(k * 0.001 * (i + 1)) * 2);
}

describe('ViT-B/16-sized model, 344 MB in one file', () => {
  it('parses with every weight a view into the file buffer', () => {
    const bytes = new Uint8Array(readFileSync(path));
    const model = decodeModel(bytes, 'vit.onnx');
    const big = model.graph!.initializer.filter((t) => t.rawData.length > 1e6);
    expect(big.length).toBe(VIT_B16.layers * 6 + 2); // + the patch Conv and the head
    for (const t of big) expect(t.rawData.buffer).toBe(bytes.buffer);
  });

  it('calibration forced into 4 passes gives the one-pass statistics exactly', async () => {
    const model = decodeModel(new Uint8Array(readFileSync(path)), 'vit.onnx');
    const r = await onePassAndPasses(
      model,
      {
        count: 2,
        feeds: async (i) => ({ pixel_values: { data: pixels(i), dims: [1, 3, VIT_B16.image, VIT_B16.image] } }),
      },
      4,
    );
    expect(r.sessions).toBe(4);
    expect(r.tensors.length).toBeGreaterThan(100);
    for (const t of r.tensors) {
      expect(r.multi[t]!.minmax).toEqual(r.one[t]!.minmax);
      expect(Array.from(r.multi[t]!.histogram.counts)).toEqual(Array.from(r.one[t]!.histogram.counts));
    }
  });
});
