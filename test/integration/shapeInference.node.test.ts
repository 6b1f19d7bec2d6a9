/**
 * The memory estimate's shapes (onnx/shapeInference.ts) against the shapes onnxruntime-node gives when it
 * runs the model with every tensor as an output: the decoder fed token ids (where the old estimate counted
 * every activation as large as the int64 ids) and the ViT (Conv, Reshape, Transpose, ReduceMean).
 */
import * as ort from 'onnxruntime-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inferShapes, makeNode, makeValueInfo, type ModelProto } from '../../src/onnx';
import { activationEstimate, planPageCalibration } from '../../src/runtime/pageMemory';
import { DECODER_TINY, decoderModel, VIT_TINY, vitModel, writeGenerated } from '../helpers/bigModels';

async function runtimeShapes(model: ModelProto, feeds: Record<string, ort.Tensor>): Promise<Map<string, number[]>> {
  const names = model.graph!.node.flatMap((n) => n.output);
  // every tensor an output, untyped (the runtime infers it); written as generated (its weights are lazy)
  const g = model.graph!;
  const outputs = [...g.output];
  for (const n of names) if (!outputs.some((o) => o.name === n)) g.output.push(makeValueInfo(n));
  const dir = mkdtempSync(join(tmpdir(), 'qs-shapes-'));
  try {
    const { path } = await writeGenerated(model, dir, 'model.onnx', false);
    const session = await ort.InferenceSession.create(path);
    const out = await session.run(feeds);
    await session.release();
    return new Map(names.map((n) => [n, [...out[n]!.dims]]));
  } finally {
    g.output = outputs;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('shape inference for the memory estimate', () => {
  it("gives the decoder's every tensor the shape onnxruntime computes, from token ids [1, T]", async () => {
    const model = decoderModel(DECODER_TINY);
    const T = 7;
    const ids = new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: T }, (_, i) => BigInt(i % DECODER_TINY.vocab)),
      [1, T],
    );
    const actual = await runtimeShapes(model, { input_ids: ids });
    const inferred = inferShapes(model.graph!, { input_ids: [1, T] });
    for (const [name, dims] of actual) expect(inferred.get(name)?.dims, name).toEqual(dims);
    // the estimate: float32 activations sized by their shapes, none assumed
    const names = [...actual.keys()];
    const e = activationEstimate(model, names, { input_ids: [1, T] });
    expect(e.assumed).toEqual([]);
    expect(e.bytes.get('l0_q')).toBe(4 * T * DECODER_TINY.dim);
    expect(e.bytes.get('l0_scores')).toBe(4 * T * T);
    expect(e.bytes.get('l0_up_mm')).toBe(4 * T * DECODER_TINY.hidden);
    expect(e.bytes.get('logits')).toBe(4 * T * DECODER_TINY.vocab);
  });

  it("gives the ViT's every tensor the shape onnxruntime computes", async () => {
    const model = vitModel(VIT_TINY);
    const x = new ort.Tensor('float32', new Float32Array(3 * VIT_TINY.image ** 2), [
      1,
      3,
      VIT_TINY.image,
      VIT_TINY.image,
    ]);
    const actual = await runtimeShapes(model, { pixel_values: x });
    const inferred = inferShapes(model.graph!, { pixel_values: [1, 3, VIT_TINY.image, VIT_TINY.image] });
    for (const [name, dims] of actual) expect(inferred.get(name)?.dims, name).toEqual(dims);
  });

  it('counts a tensor no rule covers as the largest input, and the plan says it assumed so', () => {
    const model = decoderModel(DECODER_TINY);
    const g = model.graph!;
    // an operator of another domain: its output and everything computed from it are unknown
    const at = g.node.findIndex((n) => n.output[0] === 'l1_ln1');
    g.node[at] = makeNode('CustomNorm', g.node[at]!.input, ['l1_ln1'], 'custom', {});
    g.node[at]!.domain = 'com.example';
    const T = 4;
    const e = activationEstimate(model, ['l0_q', 'l1_ln1', 'l1_q', 'l1_scores'], { input_ids: [1, T] });
    expect(e.assumed).toEqual(['l1_ln1', 'l1_q', 'l1_scores']);
    expect(e.bytes.get('l1_q')).toBe(4 * T); // the largest input (ids [1, 4], counted as float32)
    expect(e.bytes.get('l0_q')).toBe(4 * T * DECODER_TINY.dim);
    const plan = planPageCalibration(
      model,
      1024,
      ['l0_q', 'l1_ln1', 'l1_q', 'l1_scores'],
      { input_ids: [1, T] },
      1024 ** 2,
      {
        passes: 2,
      },
    );
    expect(plan.note).toMatch(
      /3 of the tensors \(l1_ln1, l1_q, l1_scores\) .* assumed each as large as the largest input/,
    );
    expect(() => planPageCalibration(model, 1024 ** 3, ['l1_q'], { input_ids: [1, T] }, 1024 ** 3)).toThrow(
      /calibration needs at least .*assumed each as large as the largest input/,
    );
  });
});
