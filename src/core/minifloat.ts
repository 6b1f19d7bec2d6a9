/**
 * Floating-point formats narrower than float32, encoded and decoded bit for bit: float16 (IEEE 754
 * binary16), bfloat16, and the two float8 formats ONNX defines (onnx/docs/Operators.md, Cast;
 * docs/technical/float8.md): E4M3FN (no infinities, one NaN pattern per sign: S.1111.111, largest
 * finite 448) and E5M2 (IEEE-like, with infinities, largest finite 57344).
 *
 * Encoding rounds half to even. Out of range: float16/bfloat16 overflow to ±Infinity as IEEE does;
 * the float8 formats saturate to their largest finite value by default, as ONNX's Cast does with
 * saturate=1 (its default), or give NaN (E4M3FN) / ±Infinity (E5M2) with saturate=0.
 */
import { roundHalfToEven } from './rounding';

export interface MiniFloatFormat {
  readonly name: 'float16' | 'bfloat16' | 'float8e4m3fn' | 'float8e5m2';
  readonly exponentBits: number;
  readonly mantissaBits: number;
  readonly bias: number;
  /** IEEE-style: the all-ones exponent holds Infinity and NaN. E4M3FN uses it for finite values. */
  readonly ieee: boolean;
}

export const FLOAT16: MiniFloatFormat = { name: 'float16', exponentBits: 5, mantissaBits: 10, bias: 15, ieee: true };
export const BFLOAT16: MiniFloatFormat = { name: 'bfloat16', exponentBits: 8, mantissaBits: 7, bias: 127, ieee: true };
export const FLOAT8_E4M3FN: MiniFloatFormat = {
  name: 'float8e4m3fn',
  exponentBits: 4,
  mantissaBits: 3,
  bias: 7,
  ieee: false,
};
export const FLOAT8_E5M2: MiniFloatFormat = {
  name: 'float8e5m2',
  exponentBits: 5,
  mantissaBits: 2,
  bias: 15,
  ieee: true,
};

export const MINI_FLOATS: readonly MiniFloatFormat[] = [FLOAT16, BFLOAT16, FLOAT8_E4M3FN, FLOAT8_E5M2];

function totalBits(f: MiniFloatFormat): number {
  return 1 + f.exponentBits + f.mantissaBits;
}

/** The largest finite value. */
export function maxFinite(f: MiniFloatFormat): number {
  const maxExpField = f.ieee ? 2 ** f.exponentBits - 2 : 2 ** f.exponentBits - 1;
  // E4M3FN: the all-ones mantissa at the top exponent is NaN, so the largest mantissa is one less.
  const maxMantissa = f.ieee ? 2 ** f.mantissaBits - 1 : 2 ** f.mantissaBits - 2;
  return (1 + maxMantissa / 2 ** f.mantissaBits) * 2 ** (maxExpField - f.bias);
}

/** The smallest positive (subnormal) value. */
export function minSubnormal(f: MiniFloatFormat): number {
  return 2 ** (1 - f.bias - f.mantissaBits);
}

function nanBits(f: MiniFloatFormat): number {
  const n = totalBits(f);
  // the canonical quiet NaN: all exponent bits and the top mantissa bit (E4M3FN: all ones)
  return f.ieee ? (((1 << f.exponentBits) - 1) << f.mantissaBits) | (1 << (f.mantissaBits - 1)) : (1 << (n - 1)) - 1;
}

/** Encode a number into the format's bits (an unsigned integer of 8 or 16 bits). */
export function encodeMiniFloat(x: number, f: MiniFloatFormat, saturate = totalBits(f) === 8): number {
  const n = totalBits(f);
  const signBit = 1 << (n - 1);
  if (Number.isNaN(x)) return nanBits(f);
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  const a = Math.abs(x);
  const infBits = ((1 << f.exponentBits) - 1) << f.mantissaBits;
  const max = maxFinite(f);
  const overflow = (): number =>
    saturate ? sign | encodeMiniFloat(max, f, true) : f.ieee ? sign | infBits : sign | nanBits(f);
  if (a === Infinity)
    return saturate ? sign | encodeMiniFloat(max, f, true) : f.ieee ? sign | infBits : sign | nanBits(f);
  if (a === 0) return sign;
  const emin = 1 - f.bias;
  let e = Math.floor(Math.log2(a));
  // Math.log2 can be off by one next to powers of two: settle e so that 2^e <= a < 2^(e+1)
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  if (e < emin) {
    // subnormal: a multiple of 2^(emin - m); rounding can carry into the smallest normal
    const m = roundHalfToEven(a / 2 ** (emin - f.mantissaBits));
    if (m === 0) return sign;
    return sign | m; // m == 2^mantissaBits lands exactly on exponent field 1, mantissa 0
  }
  let m = roundHalfToEven(a / 2 ** (e - f.mantissaBits)); // in [2^m, 2^(m+1)]
  if (m === 2 ** (f.mantissaBits + 1)) {
    m = 2 ** f.mantissaBits;
    e++;
  }
  const value = (m / 2 ** f.mantissaBits) * 2 ** e;
  if (value > max) return overflow();
  const expField = e + f.bias;
  return sign | (expField << f.mantissaBits) | (m - 2 ** f.mantissaBits);
}

/** Decode the format's bits into a number. */
export function decodeMiniFloat(bits: number, f: MiniFloatFormat): number {
  const n = totalBits(f);
  const sign = bits & (1 << (n - 1)) ? -1 : 1;
  const expField = (bits >> f.mantissaBits) & ((1 << f.exponentBits) - 1);
  const mant = bits & ((1 << f.mantissaBits) - 1);
  const allOnes = (1 << f.exponentBits) - 1;
  if (f.ieee && expField === allOnes) return mant ? NaN : sign * Infinity;
  if (!f.ieee && expField === allOnes && mant === (1 << f.mantissaBits) - 1) return NaN;
  if (expField === 0) return sign * mant * 2 ** (1 - f.bias - f.mantissaBits);
  return sign * (1 + mant / 2 ** f.mantissaBits) * 2 ** (expField - f.bias);
}

/** Round to the nearest representable value (encode, then decode). */
export function roundToMiniFloat(x: number, f: MiniFloatFormat, saturate?: boolean): number {
  return decodeMiniFloat(encodeMiniFloat(x, f, saturate), f);
}

/** The fields of an encoding, for drawing its bit layout. */
export function miniFloatFields(
  bits: number,
  f: MiniFloatFormat,
): { sign: number; exponent: number; mantissa: number; bits: string } {
  const n = totalBits(f);
  return {
    sign: (bits >> (n - 1)) & 1,
    exponent: (bits >> f.mantissaBits) & ((1 << f.exponentBits) - 1),
    mantissa: bits & ((1 << f.mantissaBits) - 1),
    bits: bits.toString(2).padStart(n, '0'),
  };
}

/** Every finite non-negative value of an 8-bit format, ascending (the lesson's grid). */
export function nonNegativeValues(f: MiniFloatFormat): number[] {
  const n = totalBits(f);
  const out: number[] = [];
  for (let b = 0; b < 1 << (n - 1); b++) {
    const v = decodeMiniFloat(b, f);
    if (Number.isFinite(v)) out.push(v);
  }
  return out.sort((p, q) => p - q);
}

/** The gap from |x| to the next representable value up: the format's precision at x. */
export function ulpAt(x: number, f: MiniFloatFormat): number {
  const a = Math.abs(x);
  if (a < 2 ** (1 - f.bias)) return minSubnormal(f);
  const e = Math.floor(Math.log2(a));
  return 2 ** (e - f.mantissaBits);
}

/**
 * float32 values to float16 bits, fast (bit arithmetic on the float32 encoding, round half to even),
 * with the same results as encodeMiniFloat(x, FLOAT16): overflow gives ±Infinity, NaN the quiet NaN.
 */
export function float32ToHalfBits(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign; // below half the smallest subnormal: zero
        continue;
      }
      const m = mant | 0x800000;
      const shift = 14 - e;
      let half = m >>> shift;
      const rem = m & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (rem > halfway || (rem === halfway && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // a carry into the exponent is right, up to Infinity
    out[i] = sign | half;
  }
  return out;
}

/** float32 values to bfloat16 bits (float32's top half, rounded half to even; NaN stays NaN). */
export function float32ToBfloat16Bits(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i]!;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) out[i] = ((x >>> 16) & 0x8000) | 0x7fc0;
    else out[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}
