/**
 * The store driven as the page drives it, with the real runtime (onnxruntime-node) behind the same
 * request/reply protocol as the worker: calibrate, cancel mid-run, load a second model mid-run, export.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLocalCalibrator } from '../../src/runtime/localCalibrator';
import type { OrtModule } from '../../src/runtime/ort';
import { createAppStore } from '../../src/state/store';
import { encodeModel, tinyConvNet } from '../helpers/models';
import { activationQParams, sqnr } from '../../src/core';
import { methodRange, percentileRange } from '../../src/core/methods';
import { decodeModel, readFloat32 } from '../../src/onnx';
import { encodeModel as encodeModelBytes } from '../../src/onnx';
import { DOC_IMAGES, docFeeds, ocrModel } from '../helpers/sample';

async function newStore(sampleCount: number) {
  const store = createAppStore(createLocalCalibrator(ort as unknown as OrtModule, { backend: 'cpu', numThreads: 1, crossOriginIsolated: false, hardwareConcurrency: 2 }));
  await store.getState().loadDataFiles(DOC_IMAGES.slice(0, sampleCount).map((p, i) => ({ name: `doc-${i}.png`, bytes: new Uint8Array(readFileSync(p)) })));
  store.getState().loadModel('ch_PP-OCRv4_det_infer.onnx', ocrModel('det'), { isSample: true });
  store.getState().setBackend('cpu');
  return store;
}

const waitFor = async (cond: () => boolean, ms = 60_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('calibration through the store', () => {
  it('calibrates every planned tensor, with histogram counts summing to the elements seen', async () => {
    const store = await newStore(2);
    await store.getState().calibrate();
    const { calibration, model } = store.getState();
    expect(calibration.status).toBe('done');
    expect(Object.keys(calibration.stats!)).toEqual(model!.plan.activations);
    for (const s of Object.values(calibration.stats!)) {
      expect(s.histogram.counts.reduce((a, b) => a + b, 0)).toBe(s.minmax.count - s.minmax.nanCount);
    }
    const x = calibration.stats!.x!;
    expect(x.minmax.count).toBe(2 * 3 * 480 * 640);
    let exported = (await store.getState().exportModel())!;
    expect(exported.fileName).toBe('ch_PP-OCRv4_det_infer.int8.onnx');
    expect(exported.bytes.length).toBeLessThan(0.35 * exported.floatBytes);

    // A method choice re-derives the export's ranges from the same statistics.
    store.getState().setConfig((c) => ({ ...c, activations: { ...c.activations, method: 'percentile', percentile: 99.9 } }));
    const withPercentile = decodeModel((await store.getState().exportModel())!.bytes, 'p.onnx');
    const xScale = readFloat32(withPercentile.graph!.initializer.find((t) => t.name === 'x_scale')!)[0];
    const pr = percentileRange(calibration.stats!.x!.histogram, 99.9);
    expect(xScale).toBe(activationQParams(pr.rmin, pr.rmax, 'int8').scale);
    expect(pr.rmax).toBeLessThan(calibration.stats!.x!.minmax.max);
    // Entropy for every tensor: computed in slices that yield, with progress reported.
    store.getState().setConfig((c) => ({ ...c, activations: { ...c.activations, method: 'entropy' } }));
    const progress: number[] = [];
    const unsub = store.subscribe((st) => st.exporting && progress.push(st.exporting.done));
    const withEntropy = decodeModel((await store.getState().exportModel())!.bytes, 'e.onnx');
    unsub();
    expect(progress.length).toBeGreaterThan(1);
    const er = methodRange(calibration.stats!.x!, 'entropy');
    expect(readFloat32(withEntropy.graph!.initializer.find((t) => t.name === 'x_scale')!)[0]).toBe(activationQParams(er.rmin, er.rmax, 'int8').scale);
    store.getState().setConfig((c) => ({ ...c, activations: { ...c.activations, method: 'minmax' } }));
    exported = (await store.getState().exportModel())!;

    // Compare, through the same request/reply path as the page, against SQNR computed here directly.
    const heldOut = [DOC_IMAGES[13]!, DOC_IMAGES[14]!].map((p) => ({ name: p, bytes: new Uint8Array(readFileSync(p)) }));
    await store.getState().compare(heldOut);
    const cmp = store.getState().comparison;
    expect(cmp.status).toBe('done');
    expect(cmp.heldOut).toBe(true);
    const direct = async (bytes: Uint8Array) => {
      const s = await ort.InferenceSession.create(bytes);
      return Promise.all(
        [13, 14].map(async (i) => {
          const x = docFeeds(i).x;
          return (await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) }))[s.outputNames[0]!]!.data as Float32Array;
        }),
      );
    };
    const f = await direct(encodeModelBytes(store.getState().model!.prepared));
    const q = await direct(exported.bytes);
    cmp.results!.forEach((r, i) => expect(r.outputs[0]!.metrics.sqnrDb).toBe(sqnr(f[i]!, q[i]!)));
  });

  it('cancel: no progress after the acknowledgement, statistics as before the run, and a new run starts', async () => {
    const store = await newStore(6);
    await store.getState().calibrate();
    const before = store.getState().calibration.stats;
    const run = store.getState().calibrate();
    await waitFor(() => store.getState().calibration.progress.done >= 1);
    store.getState().cancelCalibration();
    expect(store.getState().calibration.status).toBe('cancelled');
    const progressAfter: number[] = [];
    const unsub = store.subscribe((s) => progressAfter.push(s.calibration.progress.done));
    await run;
    await new Promise((r) => setTimeout(r, 1500));
    unsub();
    expect(progressAfter).toEqual([]);
    expect(store.getState().calibration.stats).toBe(before);
    await store.getState().loadDataFiles([{ name: 'doc.png', bytes: new Uint8Array(readFileSync(DOC_IMAGES[0]!)) }]);
    await store.getState().calibrate();
    expect(store.getState().calibration.status).toBe('done');
    expect(store.getState().calibration.stats!.x!.minmax.count).toBe(3 * 480 * 640);
  });

  it('a second model loaded while one calibrates ends that run; its statistics never land', async () => {
    const store = await newStore(4);
    const run = store.getState().calibrate();
    await waitFor(() => store.getState().calibration.progress.done >= 1);
    store.getState().loadModel('tiny.onnx', encodeModel(tinyConvNet()));
    await run;
    await new Promise((r) => setTimeout(r, 500));
    const s = store.getState();
    expect(s.model!.fileName).toBe('tiny.onnx');
    expect(s.calibration.status).toBe('idle');
    expect(s.calibration.stats).toBeNull();
    expect(await store.getState().exportModel()).toBeNull();
    expect(store.getState().exportError?.code).toBe('NO_STATISTICS');
  });

  it('a broken file leaves the loaded model in place and shows the error', async () => {
    const store = await newStore(1);
    store.getState().loadModel('notes.onnx', new TextEncoder().encode('not a model'));
    expect(store.getState().model!.fileName).toBe('ch_PP-OCRv4_det_infer.onnx');
    expect(store.getState().modelError).toMatchObject({ code: 'NOT_ONNX' });
  });
});
