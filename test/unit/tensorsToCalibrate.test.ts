/**
 * What the page calibrates (the count its calibrate panel says): the plan's activations and the model's
 * inputs and outputs, as the command line's calibrate does; a PyTorch preset adds the tensors eager
 * PyTorch observes.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core';
import { applyPreset } from '../../src/core/presets';
import { calibrationTensors, planQuantization } from '../../src/onnx';
import { loadModelSync } from '../../src/state/modelSlice';
import { tensorsToCalibrate } from '../../src/state/calibrationSlice';
import { ocrModel } from '../helpers/sample';

describe('tensorsToCalibrate', () => {
  const m = loadModelSync('ch_PP-OCRv4_det_infer.onnx', ocrModel('det'), true);
  const edges = [...m.prepared.graph!.input, ...m.prepared.graph!.output].map((v) => v.name);

  it('is the plan’s activations with the model’s inputs and outputs', () => {
    const t = tensorsToCalibrate(m, DEFAULT_CONFIG);
    expect(t).toEqual(calibrationTensors(m.prepared, m.plan));
    for (const e of edges) expect(t).toContain(e);
  });

  it('keeps the inputs and outputs under a PyTorch preset, beside the tensors eager PyTorch observes', () => {
    const config = applyPreset(DEFAULT_CONFIG, 'x86');
    const t = tensorsToCalibrate(m, config);
    for (const e of edges) expect(t).toContain(e);
    const eager = planQuantization(m.prepared, { ...DEFAULT_CONFIG, placement: 'pytorch-eager' }).activations;
    for (const a of [...eager, ...m.plan.activations]) expect(t).toContain(a);
    expect(new Set(t).size).toBe(t.length);
  });
});
