/**
 * WGSL compute shaders for the WebGPU statistics fold (runtime/gpuHistogram.ts): a tensor's extremes
 * and its histogram computed where onnxruntime left it, on the GPU; only a few words and the counts
 * are read back.
 *
 * Exactness: values are compared as ORDER KEYS, integers that sort as the float32 values do (the sign
 * and magnitude bits of IEEE 754 binary32: magnitude bits for x >= 0, their negation for x < 0, so
 * -0 and +0 share key 0). Integer comparisons are exact whatever the GPU does with floats (WGSL lets
 * an implementation flush subnormals to zero: https://www.w3.org/TR/WGSL/#floating-point-accuracy),
 * so the min/max and every bin equal the CPU fold's, which compares float32 values exactly.
 *
 * The bin of a value is numpy's for float32 data (core/histogramBinning.ts binInto): the largest i in
 * [0, bins - 1] with edge_i <= x, over the float32 edges numpy's linspace makes (histogramEdges), the
 * last bin closed. A float estimate (x - lo) * scale finds the bin of most values at once; it is
 * checked against the two edges' keys, and where it is off (a value within rounding of an edge, a
 * flushed subnormal, a degenerate range) a binary search over the edge keys finds the exact bin.
 */

/** Words of the extremes buffer: min key, max key, NaN count, ±Inf count, first zero (index * 2 + sign). */
export const EXTREMES_WORDS = 5;
/** Bins that fit the per-workgroup histogram in workgroup memory (8 KiB of the 16 KiB WebGPU guarantees). */
export const SHARED_BINS = 2048;
export const WORKGROUP = 256;

const orderKey = /* wgsl */ `
fn orderKey(b: u32) -> i32 {
  let m = i32(b & 0x7fffffffu);
  return select(m, -m, (b & 0x80000000u) != 0u);
}`;

export const extremesShader = /* wgsl */ `
struct Params { count: u32, pad0: u32, pad1: u32, pad2: u32 }
struct Extremes { minKey: atomic<i32>, maxKey: atomic<i32>, nan: atomic<u32>, inf: atomic<u32>, firstZero: atomic<u32> }
@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read_write> out: Extremes;

var<workgroup> wMin: atomic<i32>;
var<workgroup> wMax: atomic<i32>;
var<workgroup> wNan: atomic<u32>;
var<workgroup> wInf: atomic<u32>;
var<workgroup> wZero: atomic<u32>;
${orderKey}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  if (li == 0u) {
    atomicStore(&wMin, 0x7fffffff);
    atomicStore(&wMax, bitcast<i32>(0x80000000u));
    atomicStore(&wNan, 0u);
    atomicStore(&wInf, 0u);
    atomicStore(&wZero, 0xffffffffu);
  }
  workgroupBarrier();
  var lo = 0x7fffffff;
  var hi = bitcast<i32>(0x80000000u);
  var nan = 0u;
  var inf = 0u;
  var zero = 0xffffffffu;
  let stride = nwg.x * ${WORKGROUP}u;
  for (var k = wg.x * ${WORKGROUP}u + li; k < params.count; k += stride) {
    let b = data[k];
    let m = b & 0x7fffffffu;
    if (m > 0x7f800000u) {
      nan += 1u;
    } else if (m == 0x7f800000u) {
      inf += 1u;
    } else {
      let key = orderKey(b);
      lo = min(lo, key);
      hi = max(hi, key);
      // the CPU scan keeps the sign of the data's first zero when an extreme is zero (core/minmax signedZero)
      if (m == 0u) { zero = min(zero, k * 2u + (b >> 31u)); }
    }
  }
  atomicMin(&wMin, lo);
  atomicMax(&wMax, hi);
  if (nan > 0u) { atomicAdd(&wNan, nan); }
  if (inf > 0u) { atomicAdd(&wInf, inf); }
  if (zero != 0xffffffffu) { atomicMin(&wZero, zero); }
  workgroupBarrier();
  if (li == 0u) {
    atomicMin(&out.minKey, atomicLoad(&wMin));
    atomicMax(&out.maxKey, atomicLoad(&wMax));
    atomicAdd(&out.nan, atomicLoad(&wNan));
    atomicAdd(&out.inf, atomicLoad(&wInf));
    atomicMin(&out.firstZero, atomicLoad(&wZero));
  }
}`;

export const binShader = /* wgsl */ `
struct Params { count: u32, bins: u32, lo: f32, scale: f32 }
@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> edges: array<i32>;
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;

var<workgroup> wBins: array<atomic<u32>, ${SHARED_BINS}>;
${orderKey}

// The bin of the value with bits b, or -1 when it is outside [edge_0, edge_bins] (NaN included:
// its key lies beyond the infinities').
fn binOf(b: u32) -> i32 {
  let n = params.bins;
  let key = orderKey(b);
  if (key < edges[0] || key > edges[n]) { return -1; }
  let p = (bitcast<f32>(b) - params.lo) * params.scale;
  var i = u32(clamp(select(0.0, p, p >= 0.0), 0.0, f32(n - 1u)));
  i = min(i, n - 1u);
  if (key >= edges[i] && (key < edges[i + 1u] || i == n - 1u)) { return i32(i); }
  var a = 0u;
  var z = n - 1u;
  loop {
    if (a >= z) { break; }
    let mid = (a + z + 1u) / 2u;
    if (edges[mid] <= key) { a = mid; } else { z = mid - 1u; }
  }
  return i32(a);
}

// Up to ${SHARED_BINS} bins: each workgroup counts in workgroup memory (ReLU's zeros and saturated
// tails would otherwise serialize on a few global words), then adds its counts to the tensor's.
@compute @workgroup_size(${WORKGROUP})
fn binShared(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var j = li; j < params.bins; j += ${WORKGROUP}u) { atomicStore(&wBins[j], 0u); }
  workgroupBarrier();
  let stride = nwg.x * ${WORKGROUP}u;
  for (var k = wg.x * ${WORKGROUP}u + li; k < params.count; k += stride) {
    let i = binOf(data[k]);
    if (i >= 0) { atomicAdd(&wBins[u32(i)], 1u); }
  }
  workgroupBarrier();
  for (var j = li; j < params.bins; j += ${WORKGROUP}u) {
    let c = atomicLoad(&wBins[j]);
    if (c > 0u) { atomicAdd(&counts[j], c); }
  }
}

// More bins (a range grown the ORT way, up to 32768): global atomics.
@compute @workgroup_size(${WORKGROUP})
fn binGlobal(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * ${WORKGROUP}u;
  for (var k = wg.x * ${WORKGROUP}u + li; k < params.count; k += stride) {
    let i = binOf(data[k]);
    if (i >= 0) { atomicAdd(&counts[u32(i)], 1u); }
  }
}`;
