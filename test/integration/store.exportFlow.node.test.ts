/**
 * The Export button's flow as a store action (no component needed): export, hand the file to the
 * page's save, then compare float and export on the calibration data; and nothing is saved when the
 * export fails.
 */
import { describe, expect, it } from 'vitest';
import { encodeModel, tinyConvNet } from '../helpers/models';
import { nodePageStore } from '../helpers/store';

const newStore = () => {
  const store = nodePageStore();
  store.getState().loadModel('tiny-conv.onnx', encodeModel(tinyConvNet()));
  store.getState().useGeneratedData(3);
  return store;
};

describe('exportAndCompare', () => {
  it('saves the export once, then compares it with the float model', async () => {
    const store = newStore();
    await store.getState().calibrate();
    const saved: { name: string; size: number }[] = [];
    const r = await store
      .getState()
      .exportAndCompare({ baseUrl: '/', save: (name, file) => saved.push({ name, size: file.size }) });
    expect(r).not.toBeNull();
    expect(saved).toEqual([{ name: 'tiny-conv.int8.onnx', size: r!.size }]);
    const c = store.getState().comparison;
    expect(c.error).toBeNull();
    expect(c.forExport).toBe('tiny-conv.int8.onnx');
    expect(c.heldOut).toBe(false);
    expect(c.results).toHaveLength(3);
  });

  it('saves nothing when the export fails (static QDQ without calibration)', async () => {
    const store = newStore();
    const saved: string[] = [];
    expect(await store.getState().exportAndCompare({ baseUrl: '/', save: (name) => saved.push(name) })).toBeNull();
    expect(saved).toEqual([]);
    expect(store.getState().exportError?.code).toBe('NO_STATISTICS');
  });
});
