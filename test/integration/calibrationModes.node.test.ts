/**
 * The two calibration modes on a real onnxruntime-node session (a small conv net, samples whose
 * scale grows): onnxruntime-exact statistics equal what onnxruntime's own
 * calibrator computes from all samples stacked (one histogram of all the values on the final range,
 * the |x| histogram of its symmetric percentile), and the per-sample extremes give both moving averages.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createAbsHistogram, updateAbsHistogram } from '../../src/core/absHistogram';
import { createHistogram } from '../../src/core/histogram';
import { updateHistogram } from '../../src/core/histogramFold';
import { methodRange, ortPassRange, percentileRangeSymmetric } from '../../src/core/methods';
import { mulberry32, normalSampler } from '../../src/core/random';
import { encodeModel as encode, withExtraOutputs } from '../../src/onnx';
import { calibrate, type CalibrationSource } from '../../src/runtime/calibrate';
import type { OrtModule } from '../../src/runtime/ort';
import { concat } from '../helpers/arrays';
import { tinyConvNet } from '../helpers/models';

const ortModule = ort as unknown as OrtModule;

describe('calibration modes', () => {
  it('onnxruntime-exact equals one histogram over all samples stacked; streaming grows instead', async () => {
    const model = tinyConvNet();
    const tensors = model.graph!.node.flatMap((n) => n.output);
    const session = await ort.InferenceSession.create(encode(withExtraOutputs(model, tensors)));
    const input = model.graph!.input[0]!;
    const dims =
      input.type!.value.case === 'tensorType'
        ? input.type!.value.value.shape!.dim.map((d) => Number(d.value.value))
        : [];
    const size = dims.reduce((a, b) => a * b, 1);
    // samples of growing scale: the streaming histogram has to grow, the exact one never does
    const samples = [0.5, 1, 3, 2, 6].map((scale, k) => {
      const n = normalSampler(mulberry32(k + 1));
      return Float32Array.from({ length: size }, () => n() * scale);
    });
    const source: CalibrationSource = {
      count: samples.length,
      feeds: async (i) => ({ [input.name]: { type: 'float32', data: samples[i]!, dims } }),
    };
    const exact = await calibrate(ortModule, session, source, tensors, { mode: 'onnxruntime-exact' });
    const streaming = await calibrate(ortModule, session, source, tensors);

    // onnxruntime's way: every sample's output stacked, binned once
    const outputs: Record<string, Float32Array[]> = Object.fromEntries(tensors.map((t) => [t, []]));
    for (const s of samples) {
      const r = await session.run({ [input.name]: new ort.Tensor('float32', s, dims) });
      for (const t of tensors) outputs[t]!.push(r[t]!.data as Float32Array);
    }
    let grewSomewhere = false;
    for (const t of tensors) {
      const all = concat(outputs[t]!);
      const once = updateHistogram(createHistogram(2048), all);
      const e = exact[t]!;
      expect(Array.from(e.histogram.counts)).toEqual(Array.from(once.counts));
      expect(e.histogram.threshold).toBe(once.threshold);
      const absOnce = updateAbsHistogram(createAbsHistogram(), all);
      expect(Array.from(e.abs!.counts)).toEqual(Array.from(absOnce.counts));
      expect(Array.from(e.abs!.edges)).toEqual(Array.from(absOnce.edges));
      expect(methodRange(e, 'percentile')).toEqual(percentileRangeSymmetric(absOnce, 99.999));
      // per-sample extremes, the same in both modes, give onnxruntime's one-pass moving average
      const extremes = outputs[t]!.map((b) => ({ min: Math.min(...b), max: Math.max(...b) }));
      expect(Array.from(e.batchMin)).toEqual(extremes.map((x) => Math.fround(x.min)));
      expect(Array.from(streaming[t]!.batchMax)).toEqual(extremes.map((x) => Math.fround(x.max)));
      expect(methodRange(e, 'moving-average')).toEqual(ortPassRange(extremes));
      // both modes agree on min/max and counts
      expect(streaming[t]!.minmax).toEqual(e.minmax);
      expect(streaming[t]!.histogram.total).toBe(e.histogram.total);
      if (streaming[t]!.histogram.counts.length > 2048) grewSomewhere = true;
    }
    expect(grewSomewhere).toBe(true);
  });
});
