/** The corpus of broken models, each pinned to its error code and message (test/fixtures/bad-models). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/onnx';
import { loadModelSync } from '../../src/state/modelSlice';
import { FIXTURES } from '../helpers/reference';

const dir = join(FIXTURES, 'bad-models');
const corpus = JSON.parse(readFileSync(join(dir, 'corpus.json'), 'utf8')) as {
  cases: { file: string; code: string; message: string }[];
};
const read = (f: string) => new Uint8Array(readFileSync(join(dir, f)));

describe('bad models', () => {
  it.each(corpus.cases.map((c) => [c.file, c] as const))('%s', (_f, c) => {
    let err: unknown;
    try {
      loadModelSync(c.file, read(c.file), false);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'QuantscopeError', code: c.code });
    expect((err as Error).message).toContain(c.message);
  });

  it('refuses a model over the page limit, naming the limit', () => {
    expect(() => decodeModel(read('layernorm.onnx'), 'big.onnx', 100)).toThrow(
      /big\.onnx is 0\.00 GiB: the page holds models up to 0\.00 GiB \(protobuf's limit is 2 GiB and the wasm heap 4 GiB\)/,
    );
  });

  it('keeps an op the quantizer does not handle in float, and says so', () => {
    const m = loadModelSync('layernorm.onnx', read('layernorm.onnx'), false);
    expect(m.summary.floatOps).toEqual({ LayerNormalization: 1 });
    expect(m.summary.quantizedNodes).toEqual([{ name: 'matmul0', opType: 'MatMul' }]);
  });
});
