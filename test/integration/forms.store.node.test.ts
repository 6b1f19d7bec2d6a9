/**
 * Export forms through the page's store over onnxruntime-node: the float and exported models timed, and a
 * file that does not load never offered (forms.node.test.ts: the forms themselves).
 */
import { describe, expect, it } from 'vitest';
import { encodeModel, tinyConvNet } from '../helpers/models';
import { nodePageStore } from '../helpers/store';

describe('what runs where, and how fast', () => {
  it('times float and exported models through the store (session creation apart, median of 10 runs)', async () => {
    const store = nodePageStore();
    store.getState().loadModel('tiny.onnx', encodeModel(tinyConvNet()));
    store.getState().useGeneratedData(2);
    store.getState().setConfig((c) => ({ ...c, form: { kind: 'float16', keepIoTypes: true } }));
    const exported = (await store.getState().exportModel())!;
    // the page keeps the file as a Blob of its parts; one buffer is made only when asked for
    expect(Object.keys(exported)).not.toContain('bytes');
    expect(exported.size).toBe(exported.blob.size);
    expect(Buffer.from(await exported.blob.arrayBuffer()).equals(Buffer.from(exported.bytes))).toBe(true);
    await store.getState().measureSpeed();
    const s = store.getState().speed;
    expect(s.status).toBe('done');
    expect(s.results[0]!.float.runs).toBeGreaterThanOrEqual(10);
    expect(s.results[0]!.exported.medianMs).toBeGreaterThan(0);
    expect(s.skipped.join(' ')).toMatch(/WebGPU/);
  });
});

describe('the page never offers a file that does not load', () => {
  it('an export onnxruntime cannot load is refused with its reason, and nothing is offered', async () => {
    const m = tinyConvNet();
    // an op from a domain no runtime knows, kept as is by the float16 form
    const custom = m.graph!.node.find((n) => n.opType === 'Relu')!;
    custom.domain = 'com.example';
    custom.opType = 'MysteryRelu';
    m.opsetImport.push({ ...m.opsetImport[0]!, domain: 'com.example', version: 1n });
    const store = nodePageStore();
    store.getState().loadModel('mystery.onnx', encodeModel(m));
    store.getState().setConfig((c) => ({ ...c, form: { kind: 'float16', keepIoTypes: true } }));
    expect(await store.getState().exportModel()).toBeNull();
    expect(store.getState().exported).toBeNull();
    expect(store.getState().exportError!.message).toMatch(
      /does not load in onnxruntime, so it is not offered: .*MysteryRelu/,
    );
  });
});
