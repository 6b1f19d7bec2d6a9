/**
 * The race behind e2e/data.spec.ts "an image that does not decode, and a tensor of the wrong shape":
 * built-in images are fetched before they are loaded; under load that fetch can end after the user
 * has given files of their own. The late load must then neither replace their data nor clear their
 * error (it used to clear the small.npy error: its load number was taken after the fetch). The
 * number of a load is taken when it is asked for, and it commits only if no choice came since.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel, tinyConvNet } from '../helpers/models';
import { makeNpy } from '../helpers/npy';
import { FIXTURES } from '../helpers/reference';
import { ROOT } from '../helpers/sample';
import { nodePageStore } from '../helpers/store';

const newStore = () => {
  const store = nodePageStore();
  store.getState().loadModel('tiny-conv.onnx', encodeModel(tinyConvNet()));
  return store;
};
const builtIn = () => [
  { name: 'doc-01.png', bytes: new Uint8Array(readFileSync(join(ROOT, 'public', 'samples', 'det', 'doc-01.png'))) },
];

describe('a built-in data load that arrives late', () => {
  it("neither replaces the user's files nor clears their error", async () => {
    const store = newStore();
    const askedAt = store.getState().dataGeneration; // "Built-in documents" pressed: the fetch starts
    const corrupt = new Uint8Array(readFileSync(join(FIXTURES, 'bad-data', 'corrupt.png')));
    await store.getState().loadDataFiles([{ name: 'broken.png', bytes: corrupt }]);
    expect(store.getState().dataError?.message).toMatch(/broken\.png could not be decoded/);
    const small = makeNpy('<f4', [1, 3, 4, 4], new Float32Array(48));
    await store.getState().loadDataFiles([{ name: 'small.npy', bytes: small }]);
    const error = store.getState().dataError;
    expect(error?.message).toMatch(/small\.npy has shape \[1, 3, 4, 4\] but input "X" takes \[1, 3, 8, 8\]/);
    // ... and only now the built-in images arrive
    await store.getState().loadDataFiles(builtIn(), 'built-in', { askedAt });
    expect(store.getState().dataError).toBe(error);
    expect(store.getState().dataKind).toBe('none');
  });

  it('loads when the user has chosen nothing meanwhile', async () => {
    const store = newStore();
    const askedAt = store.getState().dataGeneration;
    await store.getState().loadDataFiles(builtIn(), 'built-in', { askedAt });
    expect(store.getState().dataKind).toBe('images');
    expect(store.getState().dataError).toBeNull();
  });
});
