/**
 * The recipe: its schema accepts what the page and the CLI write, and every bad field is named by
 * its JSON path; ranges go through as float32.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import {
  parseRecipe,
  rangesFromRecipe,
  rangesToRecipe,
  RECIPE_VERSION,
  serializeRecipe,
  type Recipe,
} from '../../src/core/recipe';

const good: Recipe = {
  quantscope: RECIPE_VERSION,
  model: { fileName: 'm.onnx', sha256: 'a'.repeat(64), bytes: 10 },
  preparation: { fixedInputs: { sr: 16000 }, log: ['nameNodes: named 3 nodes'] },
  calibration: {
    mode: 'streaming',
    bins: 2048,
    backend: 'wasm',
    data: { kind: 'images', count: 8, preprocessing: { normalize: 'imagenet' } },
  },
  config: {
    ...DEFAULT_CONFIG,
    form: { kind: 'weight-only', format: 'dq', dtype: 'int4', symmetric: true, blockSize: 32 },
    tensors: { t: { activations: { method: 'percentile', percentile: 99.9, range: { rmin: -1, rmax: 2 } } } },
  },
  ranges: { t: [-1.5, 2.25], nan_tensor: null },
};

describe('recipe', () => {
  it('round-trips through text, and ranges are float32', () => {
    expect(parseRecipe(serializeRecipe(good))).toEqual(good);
    const r = rangesToRecipe(new Map([['x', { rmin: 0.1, rmax: 1 / 3 }]]));
    expect(r.x).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
    expect(rangesFromRecipe({ ...good, ranges: r }).get('x')).toEqual({
      rmin: Math.fround(0.1),
      rmax: Math.fround(1 / 3),
    });
  });

  it.each([
    [{ ...good, quantscope: 2 }, /recipe version 2 is not one this Quantscope reads/],
    [{ ...good, model: { ...good.model, sha256: 'xyz' } }, /\$\.model\.sha256: "xyz" does not match/],
    [
      { ...good, config: { ...good.config, activations: { ...good.config.activations, dtype: 'int3' } } },
      /\$\.config\.activations\.dtype: must be one of/,
    ],
    [
      { ...good, config: { ...good.config, weights: { ...good.config.weights, perChannel: 'yes' } } },
      /\$\.config\.weights\.perChannel: expected boolean/,
    ],
    [{ ...good, ranges: { t: [1] } }, /\$\.ranges\.t/],
    [
      { ...good, calibration: { ...good.calibration!, mode: 'fast' } },
      /\$\.calibration\.mode: must be one of "streaming", "onnxruntime-exact"/,
    ],
    [{ ...good, extra: 1 }, /\$\.extra: is not a recipe field/],
    [(({ model: _m, ...rest }) => rest)(good), /\$\.model: is required/],
  ])('names the bad field: %#', (bad, message) => {
    expect(() => parseRecipe(JSON.stringify(bad), 'r.json')).toThrow(message);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseRecipe('{', 'r.json')).toThrow(/r\.json: not JSON/);
  });
});
