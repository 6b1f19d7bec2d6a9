// The export panel's form picker data (FORM_OPTIONS) and the per-form option controls (FormOptions).
import type { ExportForm } from '../core/config';
import type { FormKind } from '../core/exportForms';
import type { IntDType } from '../core/dtype';
import { TfliteOptions } from './TfliteExport';
import { RoundingChoice } from './RoundingOptions';

export const FORM_OPTIONS: readonly (readonly [FormKind, string])[] = [
  ['qdq', 'static QDQ (calibrated)'],
  ['dq', 'weight-only, DequantizeLinear'],
  ['matmulnbits', 'weight-only, MatMulNBits'],
  ['dynamic', 'dynamic int8'],
  ['float16', 'float16'],
  ['bfloat16', 'bfloat16 weights'],
  ['q4f16', 'q4f16 (MatMulNBits + float16)'],
  ['tflite-int8', 'TFLite int8 (calibrated)'],
  ['tflite-float16', 'TFLite float16'],
  ['tflite-float32', 'TFLite float32'],
];

export function FormOptions({ form, set }: { form: ExportForm; set: (f: ExportForm) => void }) {
  if (form.kind === 'weight-only') {
    const dtypes: IntDType[] = ['int8', 'uint8', 'int4', 'uint4'];
    return (
      <>
        <label>
          weights{' '}
          <select
            aria-label="Weight-only dtype"
            value={form.dtype}
            onChange={(e) => set({ ...form, dtype: e.target.value as IntDType })}
          >
            {dtypes.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            aria-label="Weight-only symmetric"
            checked={form.symmetric}
            onChange={(e) => set({ ...form, symmetric: e.target.checked })}
          />{' '}
          symmetric
        </label>
        <label>
          scales{' '}
          <select
            aria-label="Weight-only granularity"
            value={form.blockSize === null ? 'channel' : String(form.blockSize)}
            onChange={(e) => set({ ...form, blockSize: e.target.value === 'channel' ? null : Number(e.target.value) })}
          >
            {form.format === 'dq' && <option value="channel">per channel</option>}
            <option value="32">blocks of 32</option>
            <option value="64">blocks of 64</option>
            <option value="128">blocks of 128</option>
          </select>
        </label>
        <RoundingChoice />
      </>
    );
  }
  if (form.kind === 'dynamic') {
    const conv = form.ops?.includes('Conv') ?? true;
    return (
      <label title="Dynamic quantization suits MatMul-heavy models (transformers); on convolutions its per-tensor uint8 weights cost accuracy">
        <input
          type="checkbox"
          aria-label="Dynamic Conv"
          checked={conv}
          onChange={(e) => set({ ...form, ops: e.target.checked ? ['MatMul', 'Gemm', 'Conv'] : ['MatMul', 'Gemm'] })}
        />{' '}
        Conv too
      </label>
    );
  }
  if (form.kind === 'tflite') return <TfliteOptions form={form} set={set} />;
  if (form.kind === 'float16') {
    return (
      <label>
        <input
          type="checkbox"
          aria-label="Keep float32 inputs and outputs"
          checked={form.keepIoTypes}
          onChange={(e) => set({ ...form, keepIoTypes: e.target.checked })}
        />{' '}
        float32 inputs and outputs
      </label>
    );
  }
  return null;
}
