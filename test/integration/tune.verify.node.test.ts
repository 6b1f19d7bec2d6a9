/**
 * Tune checks the file it writes in onnxruntime-node at the default optimization level: a file that
 * does not load is refused with a coded error naming it, and the next smallest configuration that
 * meets the target is written instead.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core/config';
import { isQuantscopeError } from '../../src/core/errors';
import type { SampleSpec } from '../../src/data/samples';
import { encodeModel } from '../../src/onnx';
import type { OrtModule } from '../../src/runtime/ort';
import type { Trial, TuneResult } from '../../src/runtime/tune/trial';
import { checkFileRuns, chooseRunnable, measureFile } from '../../src/runtime/tune/verify';
import { tinyConvNet } from '../helpers/models';
import { seededFloats } from '../helpers/sample';
import { notingSessionOptions } from '../helpers/tuneSetup';

const nodeOrt = ort as unknown as OrtModule;
const sample: SampleSpec = {
  name: 'x0',
  inputs: { X: { kind: 'tensor', tensor: { data: seededFloats(192, 7), dims: [1, 3, 8, 8] } } },
};
const good = encodeModel(tinyConvNet());
// a real file onnxruntime refuses: the Conv's weight renamed to a tensor that does not exist
const broken = (() => {
  const m = tinyConvNet();
  m.graph!.node[0]!.input[1] = 'missing_weight';
  return encodeModel(m);
})();

const metrics = { sqnrDb: 40, cosine: 1, top1: 1, task: null, samples: 1 };
const trial = (id: number, bytes: number, meets: boolean, tag: string): Trial => ({
  id,
  label: tag,
  config: { ...DEFAULT_CONFIG, excludeNodes: [tag] } as QuantConfig,
  metrics,
  value: 40,
  bytes,
  meets,
});

describe('tune checks that its file loads and runs', () => {
  it('a file onnxruntime refuses gets a RUNTIME error naming it', async () => {
    await expect(checkFileRuns(nodeOrt, good, sample, 'good.onnx')).resolves.toBeUndefined();
    const e = await checkFileRuns(nodeOrt, broken, sample, 'tuned.onnx').catch((x: unknown) => x);
    expect(isQuantscopeError(e) && e.code).toBe('RUNTIME');
    expect((e as Error).message).toMatch(/^tuned\.onnx does not load in onnxruntime/);
  });

  it("a check's session waits without spinning its threads; a timed one runs as users run it", async () => {
    const { ort: noting, options } = notingSessionOptions();
    await checkFileRuns(noting, good, sample, 'good.onnx');
    expect(options[0]).toMatchObject({
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    const timed = await measureFile(noting, good, sample, 'good.onnx', { latencyRuns: 2 });
    expect(timed.latencyMs).toBeGreaterThan(0);
    expect(options[1]).toMatchObject({ graphOptimizationLevel: 'all' });
    expect(options[1]).not.toHaveProperty('extra');
  });

  it('the next smallest configuration that meets the target is written where the chosen one does not load', async () => {
    const trials = [trial(0, 900, false, 'start'), trial(1, 500, true, 'chosen'), trial(2, 700, true, 'next')];
    const result: TuneResult = {
      target: { metric: 'sqnr', value: 30 },
      trials,
      chosen: 1,
      met: true,
      changes: [],
      elapsedMs: 0,
      runs: 0,
    };
    const build = (c: QuantConfig) => (c.excludeNodes[0] === 'chosen' ? broken : good);
    const r = await chooseRunnable(nodeOrt, result, build, sample, 'tuned.onnx');
    expect(r.trial.id).toBe(2);
    expect(r.refused.map((x) => x.id)).toEqual([1]);
    // nothing runs: refused with a coded error
    const none = await chooseRunnable(nodeOrt, result, () => broken, sample, 'tuned.onnx').catch((x: unknown) => x);
    expect(isQuantscopeError(none) && none.code).toBe('RUNTIME');
  });
});
