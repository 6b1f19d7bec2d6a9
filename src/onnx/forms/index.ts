/**
 * Every export form behind one call. Static QDQ needs calibrated ranges; the others need only the
 * prepared model. Each returns the model and a report naming what was quantized, what stayed float
 * and why.
 */
import type { RoundedWeight } from '../../core/algorithms/gptq';
import type { ExportForm, QuantConfig } from '../../core/config';
import { QuantscopeError } from '../../core/errors';
import type { QuantPlan } from '../plan';
import type { ModelProto } from '../proto';
import { buildQdqModel, type TensorRange } from '../qdq';
import { dynamicQuantize } from './dynamic';
import { storeWeightsBfloat16 } from './bfloat16';
import { convertToFloat16 } from './float16';
import { weightOnly, type FormReport } from './weightOnly';

export type { FormReport } from './weightOnly';
export { opKey, SUPPORT, supportReport, type SupportBackend, type SupportRow, type SupportTable } from './support';
export { DEFAULT_FP16_BLOCK_LIST } from './float16';

/** transformers.js loads these names (its `dtype` option): the presets write them. */
export const TRANSFORMERS_JS_PRESETS: readonly {
  readonly id: string;
  readonly fileName: string;
  readonly label: string;
  readonly form: ExportForm;
}[] = [
  { id: 'fp16', fileName: 'model_fp16.onnx', label: 'fp16', form: { kind: 'float16', keepIoTypes: true } },
  {
    id: 'quantized',
    fileName: 'model_quantized.onnx',
    label: 'q8 (dynamic int8)',
    form: { kind: 'dynamic', ops: ['MatMul', 'Gemm'] },
  },
  {
    id: 'q4',
    fileName: 'model_q4.onnx',
    label: 'q4 (MatMulNBits, 4-bit, block 32)',
    form: { kind: 'weight-only', format: 'matmulnbits', dtype: 'int4', symmetric: true, blockSize: 32 },
  },
  {
    id: 'q4f16',
    fileName: 'model_q4f16.onnx',
    label: 'q4f16 (MatMulNBits 4-bit + fp16)',
    form: { kind: 'q4f16', blockSize: 32 },
  },
];

export function formLabel(form: ExportForm): string {
  switch (form.kind) {
    case 'qdq':
      return 'static QDQ';
    case 'weight-only':
      return `weight-only ${form.format === 'matmulnbits' ? 'MatMulNBits' : 'DequantizeLinear'} ${form.dtype}${form.blockSize ? `, blocks of ${form.blockSize}` : ', per channel'}`;
    case 'dynamic':
      return 'dynamic int8';
    case 'float16':
      return `float16${form.keepIoTypes ? ' (float32 inputs and outputs)' : ''}`;
    case 'bfloat16':
      return 'bfloat16 weights';
    case 'q4f16':
      return `q4f16 (MatMulNBits 4-bit, blocks of ${form.blockSize}, float16)`;
    case 'tflite':
      return `TFLite ${form.precision}${form.precision === 'int8' ? ` (${form.io === 'int8' ? 'int8' : 'float'} inputs and outputs)` : ''}`;
  }
}

/** A short tag for file names: model.<tag>.onnx. */
export function formFileTag(config: QuantConfig): string {
  const f = config.form ?? { kind: 'qdq' };
  switch (f.kind) {
    case 'qdq':
      return config.activations.dtype === 'int8' || config.activations.dtype === 'uint8'
        ? 'int8'
        : `${config.activations.dtype}`;
    case 'weight-only':
      return `${f.dtype}-${f.format === 'matmulnbits' ? 'nbits' : 'wo'}${f.blockSize ? `-b${f.blockSize}` : ''}`;
    case 'dynamic':
      return 'dynamic';
    case 'float16':
      return 'fp16';
    case 'bfloat16':
      return 'bf16';
    case 'q4f16':
      return 'q4f16';
    case 'tflite':
      return f.precision === 'float32' ? 'fp32' : f.precision === 'float16' ? 'fp16' : 'int8';
  }
}

export function exportForm(
  prepared: ModelProto,
  config: QuantConfig,
  qdq?: { plan: QuantPlan; ranges: ReadonlyMap<string, TensorRange | null> },
  /** Weights rounded by GPTQ/AdaRound (runtime/weightRounding.ts), by node name: weight-only forms. */
  rounded?: ReadonlyMap<string, RoundedWeight>,
): { model: ModelProto; report: FormReport; qdqReport?: ReturnType<typeof buildQdqModel>['report'] } {
  const form = config.form ?? { kind: 'qdq' };
  // node-level exclusions and weight choices (a tuned configuration's per-node overrides)
  const nodeEntries = Object.entries(config.nodes ?? {});
  const exclude = [...config.excludeNodes, ...nodeEntries.filter(([, o]) => o.exclude).map(([n]) => n)];
  const nodeWeights = Object.fromEntries(
    nodeEntries
      .filter(
        ([, o]) => !o.exclude && o.weights && (o.weights.dtype !== undefined || o.weights.blockSize !== undefined),
      )
      .map(([n, o]) => [n, { dtype: o.weights!.dtype, blockSize: o.weights!.blockSize }]),
  );
  switch (form.kind) {
    case 'qdq': {
      if (!qdq) throw new QuantscopeError('NO_STATISTICS', 'static QDQ needs calibrated ranges: calibrate first');
      const r = buildQdqModel(prepared, qdq.plan, qdq.ranges, config);
      return {
        model: r.model,
        qdqReport: r.report,
        report: {
          form: 'static QDQ',
          quantizedNodes: [],
          floatNodes: r.report.floatTensors.map((t) => ({ node: t.tensor, opType: '', reason: t.reason })),
          notes: [],
          opset: Number(r.model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0),
        },
      };
    }
    case 'weight-only':
      return weightOnly(prepared, {
        format: form.format,
        dtype: form.dtype,
        symmetric: form.symmetric,
        blockSize: form.blockSize,
        ops: form.ops,
        exclude,
        rounded,
        ...(Object.keys(nodeWeights).length ? { nodes: nodeWeights } : {}),
      });
    case 'dynamic':
      return dynamicQuantize(prepared, { ops: form.ops, exclude });
    case 'float16':
      return convertToFloat16(prepared, { keepIoTypes: form.keepIoTypes, blockList: form.blockList, exclude });
    case 'bfloat16':
      return storeWeightsBfloat16(prepared);
    case 'tflite':
      throw new QuantscopeError('UNSUPPORTED_OP', 'a TFLite file is written by exportTflite (onnx/forms/tflite)');
    case 'q4f16': {
      const q4 = weightOnly(prepared, {
        format: 'matmulnbits',
        dtype: 'int4',
        symmetric: true,
        blockSize: form.blockSize,
        exclude,
      });
      const f16 = convertToFloat16(q4.model, { keepIoTypes: true, exclude });
      return {
        model: f16.model,
        report: {
          ...q4.report,
          form: 'q4f16',
          notes: [...q4.report.notes, ...f16.report.notes],
          floatNodes: [...q4.report.floatNodes, ...f16.report.floatNodes],
        },
      };
    }
  }
}
