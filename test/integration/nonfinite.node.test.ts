/**
 * NaN in an activation: the tensor is named and kept float, never a NaN scale. An all-zero
 * activation gets a valid range (onnxruntime's scale 1, zero point 0).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeModel, readFloat32 } from '../../src/onnx';
import { encodeModel, nanAndZeroNet } from '../helpers/models';
import { nodePageStore } from '../helpers/store';

describe('non-finite and constant activations', () => {
  it('keeps the NaN tensor float and names it; quantizes the all-zero one with scale 1', async () => {
    const store = nodePageStore();
    store.getState().loadModel('nan.onnx', encodeModel(nanAndZeroNet()));
    store.getState().useGeneratedData(4);
    await store.getState().calibrate();
    const { calibration } = store.getState();
    expect(calibration.status).toBe('done');
    expect(calibration.stats!.logx!.minmax.nanCount).toBeGreaterThan(0);
    const z = calibration.stats!.zeros!.minmax;
    expect([z.min + 0, z.max + 0]).toEqual([0, 0]);

    const exported = (await store.getState().exportModel())!;
    expect(exported.report!.floatTensors).toEqual([{ tensor: 'logx', reason: 'NaN or Infinity seen in calibration' }]);
    const q = decodeModel(exported.bytes, 'nan.int8.onnx');
    const scales = q.graph!.initializer.filter((t) => t.name.endsWith('_scale'));
    expect(scales.length).toBeGreaterThan(3);
    for (const t of scales) for (const v of readFloat32(t)) expect(Number.isFinite(v)).toBe(true);
    expect(Array.from(readFloat32(q.graph!.initializer.find((t) => t.name === 'zeros_scale')!))).toEqual([1]);

    // The export runs, and the zero branch gives exactly the bias.
    const s = await ort.InferenceSession.create(exported.bytes);
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 192 }, (_, i) => 0.1 + (i % 7)),
      [1, 3, 8, 8],
    );
    const b = (await s.run({ X: x })).B!.data as Float32Array;
    expect(Math.abs(b[0]! - -1.5)).toBeLessThan(0.02);
  });
});
