/**
 * Rounding as the ONNX spec defines it for QuantizeLinear: round half to even
 * (onnx/docs/Operators.md, QuantizeLinear: "rounding to nearest ties to even").
 * JavaScript's built-in round() rounds ties towards +Infinity, so it is never used for quantization.
 */
export function roundHalfToEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Saturate an already-rounded value into [lo, hi]. NaN maps to 0 (numpy's cast of NaN after clip). */
export function saturate(x: number, lo: number, hi: number): number {
  if (Number.isNaN(x)) return 0;
  return x < lo ? lo : x > hi ? hi : x;
}

/** Round to float32 (the precision ONNX scales and activations are stored in). */
export const f32 = Math.fround;
