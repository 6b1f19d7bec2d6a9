/**
 * The Node half of e2e/tflite.spec.ts (run with tsx: the engine imports JSON that Playwright's loader
 * refuses): trains the classifier's head, calibrates the classifier, PP-OCRv4 det and PaddleOCR's
 * direction classifier on onnxruntime-node as the page does, writes their TFLite exports (the page's
 * engine) and what the static QDQ export and the float model output on held-out inputs, into the
 * folder given as argv[2].
 */
import * as ort from 'onnxruntime-node';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../src/core';
import { buildQdqModel, calibrationTensors, encodeModel, withExtraOutputs, type ModelProto } from '../../src/onnx';
import { exportTflite, permute } from '../../src/onnx/forms/tflite';
import { calibrate } from '../../src/runtime/calibrate';
import type { OrtModule } from '../../src/runtime/ort';
import { calibratedRanges } from '../../src/core/calibratedRanges';
import { loadModelSync } from '../../src/state/modelSlice';
import { docFeeds, ocrModel, ROOT } from './sample';
import { decodePng, imageToTensor, PPOCR_CLS_PRESET } from '../../src/data/image';
import { seededFloats } from './sample';
import { classifier, classifierFeatures, opsZoo, patternImage, SIDE, trainHead } from './tfliteModels';

const dir = process.argv[2]!;
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const concat = (xs: Float32Array[]) => {
  const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  xs.reduce((o, x) => (out.set(x, o), o + x.length), 0);
  return out;
};
const save = (name: string, data: Uint8Array | Float32Array) => writeFileSync(join(dir, name), bytesOf(data));
const toNhwc = (x: Float32Array, dims: number[]) => permute(x, dims, [0, 2, 3, 1], (n) => new Float32Array(n));

async function run(model: ModelProto | Uint8Array, feeds: Float32Array[], dims: number[]): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(model instanceof Uint8Array ? model : encodeModel(model));
  const out: Float32Array[] = [];
  for (const f of feeds)
    out.push((await s.run({ x: new ort.Tensor('float32', f, dims) }))[s.outputNames[0]!]!.data as Float32Array);
  return out;
}

async function calibrated(name: string, bytes: Uint8Array, feeds: Float32Array[], dims: number[]) {
  const m = loadModelSync(name, bytes, true);
  const tensors = calibrationTensors(m.prepared, m.plan);
  const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(m.prepared, tensors)));
  const source = { count: feeds.length, feeds: async (i: number) => ({ x: { data: feeds[i]!, dims } }) };
  const stats = await calibrate(ort as unknown as OrtModule, session, source, tensors);
  return { m, calib: { plan: m.plan, ranges: calibratedRanges(stats), config: DEFAULT_CONFIG } };
}

const meta: Record<string, unknown> = {};

// The classifier: random conv features, a softmax-regression head trained on 80 pattern images.
{
  const dims = [1, 1, SIDE, SIDE];
  const images = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => ({ c: i % 4, x: patternImage(i % 4, seed + i) }));
  const train = images(80, 1000);
  const head = trainHead(
    await run(
      classifierFeatures(),
      train.map((t) => t.x),
      dims,
    ),
    train.map((t) => t.c),
  );
  const calibImages = images(16, 5000).map((t) => t.x);
  const clsBytes = encodeModel(classifier(head));
  save('cls.onnx', clsBytes);
  save('cls-calib.bin', concat(calibImages));
  const { m, calib } = await calibrated('classifier.onnx', clsBytes, calibImages, dims);
  const held = images(40, 9000);
  save(
    'cls-float.bin',
    concat(
      await run(
        m.prepared,
        held.map((t) => t.x),
        dims,
      ),
    ),
  );
  save(
    'cls-qdq.bin',
    concat(
      await run(
        buildQdqModel(m.prepared, m.plan, calib.ranges, DEFAULT_CONFIG).model,
        held.map((t) => t.x),
        dims,
      ),
    ),
  );
  save('cls-nhwc.bin', concat(held.map((t) => toNhwc(t.x, dims))));
  save('cls-nchw.bin', concat(held.map((t) => t.x)));
  save('cls.f32.tflite', exportTflite(m.prepared, { precision: 'float32' }).bytes);
  save('cls.f16.tflite', exportTflite(m.prepared, { precision: 'float16' }).bytes);
  save('cls.int8.tflite', exportTflite(m.prepared, { precision: 'int8' }, calib).bytes);
  save(
    'cls.int8fc.tflite',
    exportTflite(m.prepared, { precision: 'int8', fullyConnectedPerChannel: true }, calib).bytes,
  );
  const io8 = exportTflite(
    m.prepared,
    { precision: 'int8', io: 'int8' },
    calib,
    'Quantscope TFLite export of classifier.onnx',
  );
  save('cls.io8.tflite', io8.bytes);
  meta.cls = {
    count: held.length,
    labels: held.map((t) => t.c),
    trainAccuracy: head.accuracy,
    input: io8.report.inputs[0],
    output: io8.report.outputs[0],
  };
}

// Every other mapped op (opsZoo: BatchNormalization, Sub, Div, HardSigmoid, ConvTranspose, bilinear Resize,
// Concat, Pad, AveragePool, Slice, Tanh, Clip, Transpose, MaxPool, Reshape/Unsqueeze/Squeeze), both outputs
// in the file's layout (the rank-4 one NHWC).
{
  const dims = [1, 4, 8, 8];
  const inputs = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => seededFloats(256, seed + i).map((v) => v * 2));
  const { m, calib } = await calibrated('zoo.onnx', encodeModel(opsZoo()), inputs(8, 100), dims);
  const held = inputs(4, 900);
  const outs = async (model: ModelProto) => {
    const s = await ort.InferenceSession.create(encodeModel(model));
    const r: Float32Array[] = [];
    for (const x of held) {
      const o = await s.run({ x: new ort.Tensor('float32', x, dims) });
      r.push(toNhwc(o['sig']!.data as Float32Array, [1, 8, 16, 16]), o['flat']!.data as Float32Array);
    }
    return concat(r);
  };
  save('zoo-float.bin', await outs(m.prepared));
  save('zoo-qdq.bin', await outs(buildQdqModel(m.prepared, m.plan, calib.ranges, DEFAULT_CONFIG).model));
  save('zoo-nhwc.bin', concat(held.map((x) => toNhwc(x, dims))));
  save('zoo.f32.tflite', exportTflite(m.prepared, { precision: 'float32' }).bytes);
  save('zoo.int8.tflite', exportTflite(m.prepared, { precision: 'int8' }, calib).bytes);
  meta.zoo = { count: held.length };
}

// PP-OCRv4 det: calibrated on two documents, compared on a held-out one.
{
  const doc = (i: number) => docFeeds(i).x;
  const dims = [...doc(0).dims];
  const { m, calib } = await calibrated(
    'ch_PP-OCRv4_det_infer.onnx',
    ocrModel('det'),
    [0, 1].map((i) => doc(i).data as Float32Array),
    dims,
  );
  const { bytes, report } = exportTflite(m.prepared, { precision: 'int8', inputShapes: { x: dims } }, calib);
  save('det.int8.tflite', bytes);
  const x = doc(12).data as Float32Array;
  save('det-x.bin', toNhwc(x, dims));
  save(
    'det-qdq.bin',
    (await run(buildQdqModel(m.prepared, m.plan, calib.ranges, DEFAULT_CONFIG).model, [x], dims))[0]!,
  );
  save('det-float.bin', (await run(m.prepared, [x], dims))[0]!);
  meta.det = {
    ops: report.ops.map((o) => o.op),
    microReady: report.microReady,
    arenaBytes: report.arenaBytes,
    bytes: bytes.length,
  };
}
// PaddleOCR's direction classifier: its Reshape to [N, -1] and its Softmax's Reshape back take shapes
// computed at run time (Shape nodes), fixed here for the lines' shape [1, 3, 48, 192]. Calibrated on six
// text lines, compared on three others, upright and turned 180° (what it tells apart).
{
  const preset = PPOCR_CLS_PRESET; // lines 1-9 are all wider than 4:1: squeezed to 192, none padded
  const line = (i: number) => {
    const path = join(ROOT, 'public', 'samples', 'rec', `line-0${i}.png`);
    return imageToTensor(decodePng(new Uint8Array(readFileSync(path)), path), preset).data as Float32Array;
  };
  const dims = [1, 3, 48, 192];
  // 180°: each channel's plane read backwards
  const turned = (x: Float32Array) => {
    const plane = 48 * 192;
    const out = new Float32Array(x.length);
    for (let c = 0; c < 3; c++) for (let k = 0; k < plane; k++) out[c * plane + k] = x[c * plane + plane - 1 - k]!;
    return out;
  };
  const { m, calib } = await calibrated(
    'ch_ppocr_mobile_v2.0_cls_infer.onnx',
    ocrModel('cls'),
    [1, 2, 3, 4, 5, 6].flatMap((i) => [line(i), turned(line(i))]),
    dims,
  );
  const { bytes, report } = exportTflite(m.prepared, { precision: 'int8', inputShapes: { x: dims } }, calib);
  save('ocrcls.int8.tflite', bytes);
  const held = [7, 8, 9].flatMap((i) => [line(i), turned(line(i))]);
  save('ocrcls-x.bin', concat(held.map((x) => toNhwc(x, dims))));
  save(
    'ocrcls-qdq.bin',
    concat(await run(buildQdqModel(m.prepared, m.plan, calib.ranges, DEFAULT_CONFIG).model, held, dims)),
  );
  save('ocrcls-float.bin', concat(await run(m.prepared, held, dims)));
  meta.ocrcls = { count: held.length, shapesFixed: report.shapesFixed, ops: report.ops.map((o) => o.op) };
}
writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
