/**
 * The histogram kernel bins a tensor where it lies when the elementwise kernel made it (or copied it
 * in for its steps) in the memory both share (core/kernelMemory.ts): the same bins, min/max and min
 * |x| as the copying path, bin for bin and bit for bit, on adversarial data (edges and their float32
 * neighbours, ±0, subnormals, the range's ends, values outside it, NaN), in lengths that span several
 * of the kernel's chunks and leave a tail; and again after the shared memory was given back, which
 * nothing then holds (collected).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { nextF32 } from '../helpers/arrays';
import { finiteMinMax, foldInRange, histogramEdges, reduceMinMaxAbs } from '../../src/core';
import { addLanes, binAbsCovered } from '../../src/core/histogramBinning';
import { deriveTensors, releaseElementwiseKernel } from '../../src/core/elementwiseKernel';
import { createHistogram, type HistogramState } from '../../src/core/histogram';
import { binsInPlace } from '../../src/core/histogramKernel';
import {
  KERNEL_SCRATCH_BYTES,
  kernelBytes,
  kernelMemory,
  MAX_KERNEL_BYTES,
  sharedMemoryKernel,
} from '../../src/core/kernelMemory';
import { mulberry32 } from '../../src/core/random';

/** Values in [-t, t] that sit on the n-bin edges, one ulp beside them, at ±0, subnormal, or anywhere. */
function adversarial(seed: number, length: number, t: number, n: number): Float32Array {
  const r = mulberry32(seed);
  const edges = histogramEdges(-t, t, n);
  return Float32Array.from({ length }, () => {
    const k = Math.floor(r() * (n + 1));
    const pick = r();
    if (pick < 0.25) return edges[k]!;
    if (pick < 0.45) return Math.min(t, Math.max(-t, nextF32(edges[k]!, r() < 0.5 ? 1 : -1)));
    if (pick < 0.55) return r() < 0.5 ? 0 : -0;
    if (pick < 0.6) return r() < 0.5 ? 1e-45 : -1e-45;
    if (pick < 0.65) return r() < 0.5 ? t : -t;
    return Math.fround(-t + 2 * t * r());
  });
}

/** `data` copied into the shared memory by the elementwise kernel (x * 1 keeps every value's bits but NaN's payload). */
function inKernelMemory(data: Float32Array): Float32Array {
  const out = deriveTensors(
    [{ output: 'y', op: 'Mul', inputs: ['x', { data: Float32Array.of(1), dims: [] }], attrs: {} }],
    {
      x: { data, dims: [data.length] },
    },
  );
  const x = out.x!.data;
  expect(x.buffer).toBe(kernelMemory().buffer);
  expect(x.byteOffset).toBeGreaterThanOrEqual(KERNEL_SCRATCH_BYTES);
  expect(Array.from(x)).toEqual(Array.from(data));
  return x;
}

const seeded = (t: number, n: number): HistogramState => ({
  ...createHistogram(n),
  counts: new Float64Array(n),
  threshold: Math.fround(t),
});

function expectSameFold(inPlace: Float32Array, t: number, n: number): void {
  const copy = inPlace.slice();
  expect([binsInPlace(inPlace), binsInPlace(copy)]).toEqual([true, false]);
  const a = foldInRange(seeded(t, n), inPlace);
  const b = foldInRange(seeded(t, n), copy);
  expect(Object.is(a.min, b.min) && Object.is(a.max, b.max)).toBe(true);
  expect(a.histogram === null).toBe(b.histogram === null);
  if (a.histogram) expect(Array.from(a.histogram.counts)).toEqual(Array.from(b.histogram!.counts));
  expect(finiteMinMax(inPlace)).toEqual(finiteMinMax(copy));
  const ma = reduceMinMaxAbs(inPlace);
  const mb = reduceMinMaxAbs(copy);
  expect(Object.is(ma.minmax.min, mb.minmax.min) && Object.is(ma.minmax.max, mb.minmax.max)).toBe(true);
  expect(Object.is(ma.minAbs, mb.minAbs)).toBe(true);
}

describe('binning in the shared kernel memory', () => {
  it.each([
    [1, 3 * 8192 + 5, 1, 2048],
    [2, 8192, 6, 2048],
    [3, 2 * 8192 + 4099, 0.1, 2640],
    [4, 37, 3, 128],
    [5, 5 * 8192 + 3, 1e20, 6144],
  ])('equals the copying path bin for bin (seed %i, %i values)', (seed, length, t, n) => {
    const data = adversarial(seed, length, Math.fround(t), n);
    expectSameFold(inKernelMemory(data), Math.fround(t), n);
    // the |x| histogram's fold (onnxruntime's exact mode) likewise
    const edges = Float64Array.from(histogramEdges(0, Math.fround(t), n));
    const inPlace = inKernelMemory(data);
    const a = binAbsCovered(inPlace, edges);
    const sumA = new Float64Array(n);
    if (a) addLanes(sumA, a);
    const b = binAbsCovered(data, edges);
    const sumB = new Float64Array(n);
    if (b) addLanes(sumB, b);
    expect(a === null).toBe(b === null);
    expect(Array.from(sumA)).toEqual(Array.from(sumB));
  });

  it('a batch that leaves the range, or holds NaN, in a later chunk: the same extremes, declined alike', () => {
    const t = Math.fround(2);
    const data = adversarial(7, 4 * 8192 + 3, t, 64);
    data[10] = 2.5; // outside, in the first chunk: later chunks only scanned
    data[3 * 8192 + 1] = -7;
    expectSameFold(inKernelMemory(data), t, 64);
    data[data.length - 1] = -7.5; // the only minimum, the last value
    expectSameFold(inKernelMemory(data), t, 64);
    expect(finiteMinMax(inKernelMemory(data))!.min).toBe(-7.5);
    data[4 * 8192] = NaN; // in the last chunk, after binning stopped
    expectSameFold(inKernelMemory(data), t, 64);
    data[10] = 0.5;
    data[3 * 8192 + 1] = 0.25;
    data[data.length - 1] = 0.125;
    expectSameFold(inKernelMemory(data), t, 64); // NaN alone
  });

  it('after the shared memory is given back, the kernels load again on a fresh one and bin alike', () => {
    const t = Math.fround(1);
    const data = adversarial(9, 2 * 8192 + 11, t, 2048);
    const before = foldInRange(seeded(t, 2048), inKernelMemory(data)).histogram!.counts;
    const old = kernelMemory();
    releaseElementwiseKernel();
    const again = inKernelMemory(data);
    expect(kernelMemory()).not.toBe(old);
    expect(Array.from(foldInRange(seeded(t, 2048), again).histogram!.counts)).toEqual(Array.from(before));
    expectSameFold(again, t, 2048);
  });
});

describe('bytes placed in the shared memory (kernelBytes)', () => {
  it.each([0, 1, 7, 128, 129, 4095])(
    'lie above the scratch with byte %i on a 16-byte boundary; a tensor there bins in place',
    (at) => {
      const data = adversarial(13, 8192 + 9, Math.fround(3), 2048);
      const bytes = kernelBytes(at + data.byteLength, at)!;
      expect(bytes.buffer).toBe(kernelMemory().buffer);
      expect(bytes.byteOffset).toBeGreaterThanOrEqual(KERNEL_SCRATCH_BYTES);
      expect((bytes.byteOffset + at) % 16).toBe(0);
      expect(bytes.byteLength).toBe(at + data.byteLength);
      bytes.set(new Uint8Array(data.buffer), at);
      const placed = new Float32Array(bytes.buffer, bytes.byteOffset + at, data.length);
      expect(binsInPlace(placed)).toBe(true);
      expectSameFold(placed, Math.fround(3), 2048);
    },
  );

  it('past the memory limit: null, the memory not grown', () => {
    const before = kernelMemory().buffer.byteLength;
    expect(kernelBytes(MAX_KERNEL_BYTES)).toBeNull();
    expect(kernelMemory().buffer.byteLength).toBe(before);
  });
});

describe('giving the shared memory back', () => {
  it('leaves nothing of the kernels holding it: the grown memory is collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // a grown memory the histogram kernel has binned in (its views of the memory taken), then released
    const held = (() => {
      const data = adversarial(11, 4 * 8192, Math.fround(1), 2048);
      expectSameFold(inKernelMemory(data), Math.fround(1), 2048);
      return new WeakRef(kernelMemory().buffer);
    })();
    releaseElementwiseKernel();
    await new Promise((resolve) => setImmediate(resolve)); // a WeakRef holds its target until the job ends
    gc();
    expect(held.deref()).toBeUndefined();
  });
});

describe('a kernel module', () => {
  const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const EXPORT_MEMORY = [0x07, 0x0a, 0x01, 0x06, ...new TextEncoder().encode('memory'), 0x02, 0x00];
  const base64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes));
  it('that imports the shared memory loads on it; one with a memory of its own (a stale build) does not load', () => {
    const importing = [0x02, 0x0f, 0x01, 0x03, ...new TextEncoder().encode('env')];
    importing.push(0x06, ...new TextEncoder().encode('memory'), 0x02, 0x00, 0x01);
    const shared = sharedMemoryKernel<{ memory: WebAssembly.Memory }>(
      base64([...HEADER, ...importing, ...EXPORT_MEMORY]),
    );
    expect(shared?.memory).toBe(kernelMemory());
    const own = [0x05, 0x03, 0x01, 0x00, 0x01];
    expect(sharedMemoryKernel(base64([...HEADER, ...own, ...EXPORT_MEMORY]))).toBeNull();
  });
});
