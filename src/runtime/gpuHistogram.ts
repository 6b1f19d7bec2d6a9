/**
 * Calibration statistics computed on the GPU (WebGPU): the extremes (min/max, NaN and ±Inf counts)
 * and the histogram of activations that onnxruntime-web left on the device
 * (preferredOutputLocation 'gpu-buffer'), on onnxruntime's own GPUDevice, reading back only a few
 * words and the bin counts per tensor. The shaders and why their results equal the CPU fold's bit for
 * bit: gpuHistogramShaders.ts. Each call batches every tensor of a sample into one submission and one
 * read-back.
 */
import { QuantscopeError } from '../core/errors';
import { histogramEdges } from '../core/histogram';
import type { MinMaxState } from '../core/minmax';
import { binShader, EXTREMES_WORDS, extremesShader, SHARED_BINS, WORKGROUP } from './gpuHistogramShaders';
import { keyOf, valueOfKey } from './gpuHistogramKeys';
import {
  COPY_DST,
  COPY_SRC,
  MAP_READ,
  STORAGE,
  UNIFORM,
  type GpuBuffer,
  type GpuDevice,
  type GpuPass,
  type GpuPipeline,
} from './gpuHistogramWebGpu';

/** One tensor on the device: its buffer (onnxruntime's; may be larger than the tensor) and its float32 count. */
export interface DeviceTensor {
  readonly buffer: GpuBuffer;
  readonly count: number;
}

/** Bin `tensor`'s values in [lo, hi] into `bins` bins with numpy's float32 edges (core/histogram's rule). */
export interface DeviceBinning {
  readonly tensor: DeviceTensor;
  readonly lo: number;
  readonly hi: number;
  readonly bins: number;
}

/** Ranges whose edges stay on the device (8 KiB each for 2048 bins). */
const MAX_CACHED_EDGES = 1024;

/** Workgroups for `count` values with each invocation taking at least `perThread` (a grid-stride loop). */
function workgroups(count: number, perThread: number, most: number): number {
  return Math.max(1, Math.min(most, Math.ceil(count / (WORKGROUP * perThread))));
}

export class GpuStatistics {
  private readonly extremesPipeline: GpuPipeline;
  private readonly sharedPipeline: GpuPipeline;
  private readonly globalPipeline: GpuPipeline;
  /** Bytes between two tensors' parameters/results in one buffer (binding offsets must be aligned). */
  private readonly stride: number;
  /** The largest tensor (bytes) a shader can bind on this device; larger ones fold on the CPU. */
  readonly maxBindingBytes: number;
  /** Edge keys by range: once a range settles, every sample reuses its edges. */
  private readonly edges = new Map<string, GpuBuffer>();

  constructor(private readonly device: GpuDevice) {
    const extremes = device.createShaderModule({ code: extremesShader });
    const bin = device.createShaderModule({ code: binShader });
    this.extremesPipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module: extremes, entryPoint: 'main' },
    });
    this.sharedPipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module: bin, entryPoint: 'binShared' },
    });
    this.globalPipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module: bin, entryPoint: 'binGlobal' },
    });
    const align = Math.max(
      256,
      device.limits?.minStorageBufferOffsetAlignment ?? 256,
      device.limits?.minUniformBufferOffsetAlignment ?? 256,
    );
    this.stride = align;
    this.maxBindingBytes = device.limits?.maxStorageBufferBindingSize ?? 128 * 1024 * 1024;
  }

  /** The pipelines compiled on `device`, or a coded error naming what WebGPU said. */
  static async create(device: GpuDevice): Promise<GpuStatistics> {
    device.pushErrorScope('validation');
    const s = new GpuStatistics(device);
    const err = await device.popErrorScope();
    if (err) throw new QuantscopeError('RUNTIME', `the WebGPU statistics shaders do not compile: ${err.message}`);
    return s;
  }

  /** Each tensor's finite min/max (the CPU scan's signed zeros) and its NaN and ±Inf counts. */
  async extremes(tensors: readonly DeviceTensor[]): Promise<MinMaxState[]> {
    return (await this.fold(tensors, [])).extremes;
  }

  /** Each binning's counts (one Uint32Array of `bins` a job). */
  async histograms(jobs: readonly DeviceBinning[]): Promise<Uint32Array[]> {
    return (await this.fold([], jobs)).counts;
  }

  /**
   * Extremes and binnings in one submission and one read-back (the calibration fold bins each tensor
   * on its current range while finding its extremes: kept when the sample stayed inside that range).
   */
  async fold(
    tensors: readonly DeviceTensor[],
    jobs: readonly DeviceBinning[],
  ): Promise<{ extremes: MinMaxState[]; counts: Uint32Array[] }> {
    if (tensors.length === 0 && jobs.length === 0) return { extremes: [], counts: [] };
    // the edge cache is emptied between submissions, never while one is being encoded
    if (this.edges.size + jobs.length > MAX_CACHED_EDGES) this.dispose();
    const d = this.device;
    return this.withBuffers(async (own) => {
      const enc = d.createCommandEncoder();
      const pass = enc.beginComputePass();
      const ext = tensors.length ? this.encodeExtremes(pass, tensors, own) : null;
      const bins = jobs.length ? this.encodeBins(pass, jobs, own) : null;
      pass.end();
      const size = (ext?.size ?? 0) + (bins?.size ?? 0);
      const read = own(d.createBuffer({ size, usage: MAP_READ | COPY_DST }));
      if (ext) enc.copyBufferToBuffer(ext.out, 0, read, 0, ext.size);
      if (bins) enc.copyBufferToBuffer(bins.out, 0, read, ext?.size ?? 0, bins.size);
      d.queue.submit([enc.finish()]);
      const got = await this.readBack(read);
      return {
        extremes: ext ? ext.decode(got.slice(0, ext.size)) : [],
        counts: bins ? bins.decode(got.slice(ext?.size ?? 0)) : [],
      };
    });
  }

  private encodeExtremes(
    pass: GpuPass,
    tensors: readonly DeviceTensor[],
    own: (b: GpuBuffer) => GpuBuffer,
  ): { out: GpuBuffer; size: number; decode(got: ArrayBuffer): MinMaxState[] } {
    const d = this.device;
    const stride = this.stride;
    const words = stride / 4;
    const size = tensors.length * stride;
    const init = new Int32Array(size / 4);
    const params = new Uint32Array(size / 4);
    tensors.forEach((t, j) => {
      init.set([0x7fffffff, -0x80000000, 0, 0, -1], j * words);
      params[j * words] = t.count;
    });
    const out = own(d.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST }));
    const uni = own(d.createBuffer({ size, usage: UNIFORM | COPY_DST }));
    d.queue.writeBuffer(out, 0, init);
    d.queue.writeBuffer(uni, 0, params);
    pass.setPipeline(this.extremesPipeline);
    const layout = this.extremesPipeline.getBindGroupLayout(0);
    tensors.forEach((t, j) => {
      if (t.count === 0) return;
      pass.setBindGroup(
        0,
        d.createBindGroup({
          layout,
          entries: [
            { binding: 0, resource: { buffer: t.buffer, offset: 0, size: t.count * 4 } },
            { binding: 1, resource: { buffer: uni, offset: j * stride, size: 16 } },
            { binding: 2, resource: { buffer: out, offset: j * stride, size: EXTREMES_WORDS * 4 } },
          ],
        }),
      );
      pass.dispatchWorkgroups(workgroups(t.count, 16, 1024));
    });
    const decode = (got: ArrayBuffer): MinMaxState[] => {
      const w = new Int32Array(got);
      return tensors.map((t, j) => {
        const at = j * words;
        const [minKey, maxKey, nan, inf, zero] = [w[at]!, w[at + 1]!, w[at + 2]! >>> 0, w[at + 3]! >>> 0, w[at + 4]!];
        // an extreme that is zero takes the sign of the data's first zero (core/minmax signedZero)
        const zeroValue = zero & 1 ? -0 : 0;
        const value = (k: number) => (k === 0 ? zeroValue : valueOfKey(k));
        const none = minKey === 0x7fffffff && maxKey === -0x80000000;
        return {
          min: none ? Infinity : value(minKey),
          max: none ? -Infinity : value(maxKey),
          count: t.count,
          nanCount: nan,
          infCount: inf,
        };
      });
    };
    return { out, size, decode };
  }

  private encodeBins(
    pass: GpuPass,
    jobs: readonly DeviceBinning[],
    own: (b: GpuBuffer) => GpuBuffer,
  ): { out: GpuBuffer; size: number; decode(got: ArrayBuffer): Uint32Array[] } {
    const d = this.device;
    const stride = this.stride;
    // each job's counts start on an aligned offset of one buffer
    const offsets: number[] = [];
    let size = 0;
    for (const j of jobs) {
      offsets.push(size);
      size += Math.ceil((j.bins * 4) / stride) * stride;
    }
    const params = new ArrayBuffer(jobs.length * stride);
    const u32 = new Uint32Array(params);
    const f32 = new Float32Array(params);
    jobs.forEach((j, k) => {
      const at = (k * stride) / 4;
      u32[at] = j.tensor.count;
      u32[at + 1] = j.bins;
      f32[at + 2] = j.lo;
      // only the shader's first guess of a bin: it is checked against the edges' keys
      f32[at + 3] = j.bins / Math.fround(j.hi - j.lo);
    });
    const out = own(d.createBuffer({ size, usage: STORAGE | COPY_SRC }));
    const uni = own(d.createBuffer({ size: params.byteLength, usage: UNIFORM | COPY_DST }));
    d.queue.writeBuffer(uni, 0, u32);
    jobs.forEach((j, k) => {
      if (j.tensor.count === 0) return;
      const shared = j.bins <= SHARED_BINS;
      const pipeline = shared ? this.sharedPipeline : this.globalPipeline;
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        d.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: j.tensor.buffer, offset: 0, size: j.tensor.count * 4 } },
            { binding: 1, resource: { buffer: uni, offset: k * stride, size: 16 } },
            { binding: 2, resource: { buffer: this.edgeKeys(j.lo, j.hi, j.bins) } },
            { binding: 3, resource: { buffer: out, offset: offsets[k]!, size: j.bins * 4 } },
          ],
        }),
      );
      pass.dispatchWorkgroups(shared ? workgroups(j.tensor.count, 64, 512) : workgroups(j.tensor.count, 16, 1024));
    });
    const decode = (got: ArrayBuffer) => jobs.map((j, k) => new Uint32Array(got, offsets[k]!, j.bins).slice());
    return { out, size, decode };
  }

  /** Free the cached edges (the pipelines go with the device). */
  dispose(): void {
    for (const b of this.edges.values()) b.destroy();
    this.edges.clear();
  }

  /** numpy's float32 edges for [lo, hi] in `bins` bins, as order keys on the device (cached). */
  private edgeKeys(lo: number, hi: number, bins: number): GpuBuffer {
    const id = `${lo}|${hi}|${bins}`;
    const hit = this.edges.get(id);
    if (hit) return hit;
    const edges = histogramEdges(lo, hi, bins);
    const keys = new Int32Array(bins + 1);
    for (let i = 0; i <= bins; i++) keys[i] = keyOf(edges[i]!);
    const b = this.device.createBuffer({ size: keys.byteLength, usage: STORAGE | COPY_DST });
    this.device.queue.writeBuffer(b, 0, keys);
    this.edges.set(id, b);
    return b;
  }

  private async readBack(b: GpuBuffer): Promise<ArrayBuffer> {
    await b.mapAsync(MAP_READ);
    const copy = b.getMappedRange().slice(0);
    b.unmap();
    return copy;
  }

  /** Run `f` with the buffers it makes destroyed after, and WebGPU's validation errors as a coded error. */
  private async withBuffers<T>(f: (own: (b: GpuBuffer) => GpuBuffer) => Promise<T>): Promise<T> {
    const made: GpuBuffer[] = [];
    this.device.pushErrorScope('validation');
    let result: T | undefined;
    let failure: unknown;
    try {
      result = await f((b) => (made.push(b), b));
    } catch (e) {
      failure = e;
    }
    const err = await this.device.popErrorScope();
    for (const b of made) b.destroy();
    if (err) throw new QuantscopeError('RUNTIME', `the WebGPU statistics fold failed: ${err.message}`);
    if (failure !== undefined) throw failure;
    return result as T;
  }
}
