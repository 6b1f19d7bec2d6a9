/**
 * The store driven as the page drives it, with the real runtime (onnxruntime-node) behind the same
 * request/reply protocol as the worker: calibrate, cancel mid-run, load a second model mid-run, export.
 */
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeModel, tinyConvNet } from '../helpers/models';
import { activationQParams, sqnr } from '../../src/core';
import { methodRange } from '../../src/core/methods';
import { calibrationTensors, decodeModel, readFloat32 } from '../../src/onnx';
import { encodeModel as encodeModelBytes } from '../../src/onnx';
import { DOC_IMAGES, docFeeds, ocrModel } from '../helpers/sample';
import { nodePageStore, waitFor } from '../helpers/store';

async function newStore(sampleCount: number) {
  const store = nodePageStore();
  await store.getState().loadDataFiles(
    DOC_IMAGES.slice(0, sampleCount).map((p, i) => ({
      name: `doc-${i}.png`,
      bytes: new Uint8Array(readFileSync(p)),
    })),
  );
  store.getState().loadModel('ch_PP-OCRv4_det_infer.onnx', ocrModel('det'), { isSample: true });
  return store;
}

describe('calibration through the store', () => {
  it('calibrates every planned tensor, with histogram counts summing to the elements seen', async () => {
    const store = await newStore(2);
    await store.getState().calibrate();
    const { calibration, model } = store.getState();
    expect(calibration.status).toBe('done');
    expect(Object.keys(calibration.stats!)).toEqual(calibrationTensors(model!.prepared, model!.plan)); // the inputs and outputs too
    for (const s of Object.values(calibration.stats!)) {
      expect(s.histogram.counts.reduce((a, b) => a + b, 0)).toBe(s.minmax.count - s.minmax.nanCount);
    }
    const x = calibration.stats!.x!;
    expect(x.minmax.count).toBe(2 * 3 * 480 * 640);
    let exported = (await store.getState().exportModel())!;
    expect(exported.fileName).toBe('ch_PP-OCRv4_det_infer.int8.onnx');
    expect(exported.bytes.length).toBeLessThan(0.35 * exported.floatBytes);

    // A method choice re-derives the export's ranges from the same statistics: on a tensor whose
    // tails the percentile clips, the exported scale is that range's.
    store
      .getState()
      .setConfig((c) => ({ ...c, activations: { ...c.activations, method: 'percentile', percentile: 99.9 } }));
    const withPercentile = decodeModel((await store.getState().exportModel())!.bytes, 'p.onnx');
    const clipped = model!.plan.activations.find((t) => {
      const s = calibration.stats![t]!;
      return s.minmax.nanCount === 0 && methodRange(s, 'percentile', { percentile: 99.9 }).rmax < s.minmax.max;
    })!;
    const pr = methodRange(calibration.stats![clipped]!, 'percentile', { percentile: 99.9 });
    expect(pr.rmax).toBeLessThan(calibration.stats![clipped]!.minmax.max);
    const pScale = readFloat32(withPercentile.graph!.initializer.find((t) => t.name === `${clipped}_scale`)!)[0];
    expect(pScale).toBe(activationQParams(pr.rmin, pr.rmax, 'int8').scale);
    expect(pScale).not.toBe(
      activationQParams(calibration.stats![clipped]!.minmax.min, calibration.stats![clipped]!.minmax.max, 'int8').scale,
    );
    // Entropy for every tensor: computed in slices that yield, with progress reported.
    store.getState().setConfig((c) => ({ ...c, activations: { ...c.activations, method: 'entropy' } }));
    const progress: number[] = [];
    // (the ranges' progress only: not the check that the file loads, which follows)
    const unsub = store.subscribe((st) => st.exporting && !st.exporting.checking && progress.push(st.exporting.done));
    const withEntropy = decodeModel((await store.getState().exportModel())!.bytes, 'e.onnx');
    unsub();
    expect(progress.length).toBeGreaterThan(1);
    const er = methodRange(calibration.stats!.x!, 'entropy');
    expect(readFloat32(withEntropy.graph!.initializer.find((t) => t.name === 'x_scale')!)[0]).toBe(
      activationQParams(er.rmin, er.rmax, 'int8').scale,
    );
    store.getState().setConfig((c) => ({ ...c, activations: { ...c.activations, method: 'minmax' } }));
    exported = (await store.getState().exportModel())!;

    // Compare, through the same request/reply path as the page, against SQNR computed here directly.
    const heldOut = [DOC_IMAGES[13]!, DOC_IMAGES[14]!].map((p) => ({
      name: p,
      bytes: new Uint8Array(readFileSync(p)),
    }));
    await store.getState().compare(heldOut);
    const cmp = store.getState().comparison;
    expect(cmp.status).toBe('done');
    expect(cmp.heldOut).toBe(true);
    const direct = async (bytes: Uint8Array) => {
      const s = await ort.InferenceSession.create(bytes);
      return Promise.all(
        [13, 14].map(async (i) => {
          const x = docFeeds(i).x;
          return (await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) }))[
            s.outputNames[0]!
          ]!.data as Float32Array;
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
    expect(store.getState().calibration.stats).toBe(before);
    // Nothing more from the cancelled run, proved by an event rather than a sleep: a new run goes through
    // the same serial queue as the cancelled one, so by the time it is done every task the cancelled
    // run had queued has ended. Every progress seen until then must be the new run's (1 sample), none
    // the cancelled run's (6 samples).
    const cancelledTotal = store.getState().calibration.progress.total;
    expect(cancelledTotal).toBeGreaterThanOrEqual(6);
    const progressAfter: { done: number; total: number }[] = [];
    const unsub = store.subscribe((s, prev) => {
      if (s.calibration.progress !== prev.calibration.progress) progressAfter.push(s.calibration.progress);
    });
    await run;
    await store.getState().loadDataFiles([{ name: 'doc.png', bytes: new Uint8Array(readFileSync(DOC_IMAGES[0]!)) }]);
    await store.getState().calibrate();
    unsub();
    expect(store.getState().calibration.status).toBe('done');
    const newTotal = store.getState().calibration.progress.total;
    expect(newTotal).toBeLessThan(cancelledTotal);
    expect(progressAfter.length).toBeGreaterThan(0);
    expect(progressAfter.filter((p) => p.total !== newTotal)).toEqual([]);
    expect(store.getState().calibration.stats!.x!.minmax.count).toBe(3 * 480 * 640);
  });

  it('a second model loaded while one calibrates ends that run; its statistics never land', async () => {
    const store = await newStore(4);
    const run = store.getState().calibrate();
    await waitFor(() => store.getState().calibration.progress.done >= 1);
    // Every statistics object the store holds from here on, to show the first run's never land.
    const landed: string[][] = [];
    const unsub = store.subscribe((s, prev) => {
      if (s.calibration.stats && s.calibration.stats !== prev.calibration.stats)
        landed.push(Object.keys(s.calibration.stats));
    });
    store.getState().loadModel('tiny.onnx', encodeModel(tinyConvNet()));
    await run;
    const s = store.getState();
    expect(s.model!.fileName).toBe('tiny.onnx');
    expect(s.calibration.status).toBe('idle');
    expect(s.calibration.stats).toBeNull();
    expect(await store.getState().exportModel()).toBeNull();
    expect(store.getState().exportError?.code).toBe('NO_STATISTICS');
    // Instead of a sleep, an event: calibrating the tiny model goes through the same serial queue as the
    // ended run, so once it is done every task of that run has ended too. Only the tiny model's land.
    await store.getState().calibrate();
    unsub();
    expect(store.getState().calibration.status).toBe('done');
    const tiny = Object.keys(store.getState().calibration.stats!);
    expect(landed).toEqual([tiny]);
  });

  it('a broken file leaves the loaded model in place and shows the error', async () => {
    const store = await newStore(1);
    store.getState().loadModel('notes.onnx', new TextEncoder().encode('not a model'));
    expect(store.getState().model!.fileName).toBe('ch_PP-OCRv4_det_infer.onnx');
    expect(store.getState().modelError).toMatchObject({ code: 'NOT_ONNX' });
  });

  it('the onnxruntime-exact mode runs every sample twice and keeps the |x| histogram', async () => {
    const store = nodePageStore();
    store.getState().loadModel('tiny.onnx', encodeModel(tinyConvNet()));
    store.getState().useGeneratedData(3);
    store.getState().setCalibrationMode('onnxruntime-exact');
    const totals: number[] = [];
    const unsub = store.subscribe((st) => totals.push(st.calibration.progress.total));
    await store.getState().calibrate();
    unsub();
    const { calibration } = store.getState();
    expect(calibration.status).toBe('done');
    expect(Math.max(...totals)).toBe(6);
    for (const s of Object.values(calibration.stats!)) {
      expect(s.abs).toBeDefined();
      expect(s.batchMin.length).toBe(3);
    }
    expect((await store.getState().exportModel())!.bytes.length).toBeGreaterThan(0);
  });
});
