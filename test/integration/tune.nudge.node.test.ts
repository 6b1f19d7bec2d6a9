/**
 * The written file's top-1 check counts only rows that hold under nudged inputs (runtime/tune/nudge.ts):
 * rows at a near-tie, which another build of onnxruntime may read the other way, do not count; rows with
 * a clear winner do. The "file" here is the float model itself (an identity MatMul), so its plain top-1
 * agreement is exactly 1 in both cases: only the nudged runs tell them apart.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import type { SampleSpec } from '../../src/data/samples';
import { encodeModel, prepareModel } from '../../src/onnx';
import { makeNode } from '../../src/onnx/proto';
import type { OrtModule } from '../../src/runtime/ort';
import { prepareTuning } from '../../src/runtime/tune/prepare';
import { checkFileRuns, FILE_NUDGES } from '../../src/runtime/tune/verify';
import { buildModel, floatTensor } from '../helpers/models';
import { calibrateOnSamples } from '../helpers/tuneSetup';

const nodeOrt = ort as unknown as OrtModule;
const ROWS = 8;
const C = 16;
const model = prepareModel(
  buildModel({
    inputs: [['X', [ROWS, C]]],
    outputs: [['Y', [ROWS, C]]],
    inits: [floatTensor('W', [C, C], (i) => (i % (C + 1) === 0 ? 1 : 0))],
    nodes: [makeNode('MatMul', ['X', 'W'], ['Y'], 'mm')],
  }),
  {},
).model;

/** Rows whose two largest entries are `gap` apart (class r % C wins), the rest well below. */
function sample(name: string, gap: number): SampleSpec {
  const data = new Float32Array(ROWS * C);
  for (let r = 0; r < ROWS; r++) {
    for (let c = 0; c < C; c++) data[r * C + c] = 0.1 + 0.01 * ((r + c) % 5);
    data[r * C + (r % C)] = 0.5 + gap;
    data[r * C + ((r + 1) % C)] = 0.5;
  }
  return { name, inputs: { X: { kind: 'tensor', tensor: { data, dims: [ROWS, C] } } } };
}

async function fileTop1(heldOut: SampleSpec[]) {
  const stats = await calibrateOnSamples(model, heldOut);
  const ctx = await prepareTuning(nodeOrt, model, DEFAULT_CONFIG, stats, heldOut, {
    floatBytes: encodeModel(model).length,
  });
  try {
    return (await checkFileRuns(nodeOrt, encodeModel(model), heldOut[0]!, 'float.onnx', {
      evaluator: ctx.evaluator,
      target: { metric: 'top1', value: 0.99 },
    }))!;
  } finally {
    await ctx.release();
  }
}

describe("the written file's top-1 under nudged inputs", () => {
  it('rows at a near-tie do not count; rows with a clear winner do', async () => {
    expect(FILE_NUDGES).toBeGreaterThan(0);
    const ties = await fileTop1([sample('ties-a', 1e-6), sample('ties-b', 2e-6)]);
    expect(ties.top1).toBe(1);
    // each nudge moves both leaders by up to 5e-4, far more than their 1e-6 gap: most rows flip
    expect(ties.stableTop1).toBeLessThan(0.75);
    // it cannot reach 0.99 after its first sample: the check stops there, saying the most it could reach
    expect(ties.samples).toBe(1);
    expect(ties.atMost).toBe(ties.stableTop1);
    const clear = await fileTop1([sample('clear-a', 0.05), sample('clear-b', 0.08)]);
    expect(clear.top1).toBe(1);
    expect(clear.stableTop1).toBe(1);
    expect(clear.samples).toBe(2);
    expect(clear.atMost).toBeUndefined();
  }, 120_000);
});
