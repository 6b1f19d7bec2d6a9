/**
 * Float32 values <-> the order keys the statistics shaders compare (gpuHistogramShaders.ts): a
 * float's bits as a signed integer whose order is the floats' order.
 */
const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);
export function keyOf(x: number): number {
  asFloat[0] = x;
  const m = bits[0]! & 0x7fffffff;
  return bits[0]! >>> 31 ? -m : m;
}
export function valueOfKey(key: number): number {
  bits[0] = key < 0 ? (-key | 0x80000000) >>> 0 : key;
  return asFloat[0]!;
}
