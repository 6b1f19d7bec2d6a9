/**
 * Each export form's default settings: what the page's form menu picks and what
 * `quantscope quantize --format` writes without further flags (one table for both).
 */
import type { ExportForm } from './config';
import type { IntDType } from './dtype';

export const FORM_KINDS = [
  'qdq',
  'dq',
  'matmulnbits',
  'dynamic',
  'float16',
  'bfloat16',
  'q4f16',
  'tflite-int8',
  'tflite-float16',
  'tflite-float32',
] as const;
export type FormKind = (typeof FORM_KINDS)[number];

export function formKindOf(f: ExportForm): FormKind {
  return f.kind === 'weight-only' ? f.format : f.kind === 'tflite' ? `tflite-${f.precision}` : f.kind;
}

/** The weights' dtype a form starts from: 4-bit for MatMulNBits and q4f16 (their reason to exist), else int8. */
export function defaultWeightDtype(kind: FormKind): IntDType {
  return kind === 'matmulnbits' || kind === 'q4f16' ? 'int4' : 'int8';
}

export interface FormChoices {
  /** Weight-only forms: the weights' dtype (symmetric unless unsigned). */
  readonly weightDtype?: IntDType;
  /** Block size; weight-only DequantizeLinear defaults to per channel, MatMulNBits and q4f16 to 32. */
  readonly blockSize?: number;
}

export function defaultForm(kind: FormKind, choices: FormChoices = {}): ExportForm {
  const dtype = choices.weightDtype ?? defaultWeightDtype(kind);
  switch (kind) {
    case 'qdq':
      return { kind: 'qdq' };
    case 'dq':
      return {
        kind: 'weight-only',
        format: 'dq',
        dtype,
        symmetric: !dtype.startsWith('u'),
        blockSize: choices.blockSize ?? null,
      };
    case 'matmulnbits':
      return {
        kind: 'weight-only',
        format: 'matmulnbits',
        dtype,
        symmetric: !dtype.startsWith('u'),
        blockSize: choices.blockSize ?? 32,
      };
    case 'dynamic':
      return { kind: 'dynamic', ops: ['MatMul', 'Gemm'] };
    case 'float16':
      return { kind: 'float16', keepIoTypes: true };
    case 'bfloat16':
      return { kind: 'bfloat16' };
    case 'q4f16':
      return { kind: 'q4f16', blockSize: choices.blockSize ?? 32 };
    case 'tflite-int8':
      return { kind: 'tflite', precision: 'int8', io: 'float' };
    case 'tflite-float16':
      return { kind: 'tflite', precision: 'float16' };
    case 'tflite-float32':
      return { kind: 'tflite', precision: 'float32' };
  }
}
