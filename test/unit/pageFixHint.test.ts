/**
 * A model whose quantizable nodes all sit in an If on a scalar input (Silero VAD's sr): the page's
 * refusal names the page's own control (step 1's "Fix sr"), not the command line's flag.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { symbolicDims } from '../../src/data/buildSamples';
import { nothingToCalibrate } from '../../src/state/calibrationSlice';
import { createAppStore, type Calibrator } from '../../src/state/store';
import { ocrModel } from '../helpers/sample';

const SILERO = join(
  import.meta.dirname,
  '..',
  '..',
  'node_modules',
  '@ricky0123',
  'vad-web',
  'dist',
  'silero_vad_v5.onnx',
);
const unused: Calibrator = {
  start: () => {
    throw new Error('a model with nothing to calibrate must never reach the runtime');
  },
  compare: () => {
    throw new Error('unused');
  },
  cancel: () => undefined,
};

describe('nothing to calibrate, on the page', () => {
  it('says to fix sr in step 1, not with --fix', async () => {
    const store = createAppStore(unused);
    store.getState().loadModel('silero_vad_v5.onnx', new Uint8Array(readFileSync(SILERO)));
    const model = store.getState().model!;
    expect(model.fixableInputs).toContain('sr');
    for (const d of symbolicDims(model.summary.inputs)) store.getState().setDimValue(d, 2);
    store.getState().setGenerated('sr', { dist: 'constant', a: 16000, b: 0 });
    store.getState().useGeneratedData(2);
    await store.getState().calibrate();
    const { status, error } = store.getState().calibration;
    expect(status).toBe('error');
    expect(error?.code).toBe('NO_STATISTICS');
    expect(error?.message).toContain('give "Fix sr" in step 1 the value you deploy with');
    expect(error?.message).not.toContain('--fix');
  });

  it('is said before any run (the calibrate panel), the refusal’s own words, and gone once sr is fixed', async () => {
    const store = createAppStore(unused);
    store.getState().loadModel('silero_vad_v5.onnx', new Uint8Array(readFileSync(SILERO)));
    const before = nothingToCalibrate(store.getState().model!);
    expect(before).toMatch(/^nothing to calibrate at the top level: all \d+ quantizable nodes are inside control flow/);
    expect(before).toContain('give "Fix sr" in step 1');
    for (const d of symbolicDims(store.getState().model!.summary.inputs)) store.getState().setDimValue(d, 2);
    store.getState().setGenerated('sr', { dist: 'constant', a: 16000, b: 0 });
    store.getState().useGeneratedData(2);
    await store.getState().calibrate();
    expect(store.getState().calibration.error?.message).toBe(`silero_vad_v5.onnx: ${before}`);

    store
      .getState()
      .loadModel('silero_vad_v5.onnx', new Uint8Array(readFileSync(SILERO)), { fixedInputs: { sr: 16000 } });
    expect(nothingToCalibrate(store.getState().model!)).toBeNull();
    store.getState().loadModel('det.onnx', ocrModel('det'));
    expect(nothingToCalibrate(store.getState().model!)).toBeNull();
  });
});
