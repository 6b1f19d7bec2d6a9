/** The corpus of broken calibration data, each file pinned to its error code and message. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAppStore, type Calibrator } from '../../src/state/store';
import { FIXTURES } from '../helpers/reference';

const dir = join(FIXTURES, 'bad-data');
const corpus = JSON.parse(readFileSync(join(dir, 'corpus.json'), 'utf8')) as {
  model: string;
  cases: { file: string; code: string; message: string }[];
};
const unused: Calibrator = {
  start: () => {
    throw new Error('refused data must never reach the runtime');
  },
  compare: () => {
    throw new Error('unused');
  },
  cancel: () => undefined,
};

describe('bad calibration data', () => {
  it.each(corpus.cases.map((c) => [c.file, c] as const))('%s', async (_f, c) => {
    const store = createAppStore(unused);
    store.getState().loadModel('tiny-conv.onnx', new Uint8Array(readFileSync(join(dir, corpus.model))));
    await store
      .getState()
      .loadDataFiles([
        { name: 'good.npy', bytes: new Uint8Array(readFileSync(join(dir, '..', 'models', 'tiny-input.npy'))) },
      ]);
    expect(store.getState().dataError).toBeNull();
    const before = store.getState().tensorSamples;
    await store.getState().loadDataFiles([{ name: c.file, bytes: new Uint8Array(readFileSync(join(dir, c.file))) }]);
    const e = store.getState().dataError;
    expect(e?.code).toBe(c.code);
    expect(e?.message).toContain(c.message);
    // what was loaded before stays
    expect(store.getState().tensorSamples).toBe(before);
  });
});
