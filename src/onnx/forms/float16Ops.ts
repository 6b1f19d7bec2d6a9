/**
 * Which ops float16 conversion (float16.ts) keeps float32, and which inputs stay float32 whatever the
 * model's precision: onnxconverter-common's block list, and the type constraints of the ops a model
 * quantized already holds.
 */
import type { NodeProto } from '../proto';

/** onnxconverter-common's DEFAULT_OP_BLOCK_LIST (float16.py), the ops it keeps float32. */
export const DEFAULT_FP16_BLOCK_LIST: readonly string[] = [
  'ArrayFeatureExtractor',
  'Binarizer',
  'CastMap',
  'CategoryMapper',
  'DictVectorizer',
  'FeatureVectorizer',
  'Imputer',
  'LabelEncoder',
  'LinearClassifier',
  'LinearRegressor',
  'Normalizer',
  'OneHotEncoder',
  'RandomUniformLike',
  'SVMClassifier',
  'SVMRegressor',
  'Scaler',
  'TreeEnsembleClassifier',
  'TreeEnsembleRegressor',
  'ZipMap',
  'NonMaxSuppression',
  'TopK',
  'RoiAlign',
  'Range',
  'CumSum',
  'Min',
  'Max',
  'Upsample',
];

/**
 * Ops of a model quantized already whose float tensors only float32 may fill, by their type constraints:
 * DynamicQuantizeLinear's input at every opset, QLinearConv/QLinearMatMul's scales (float16 only from
 * QLinearMatMul-21: kept float32 at every opset, which stays valid), and the
 * standard QuantizeLinear (input, scale) and DequantizeLinear (scale, output) below opset 19, which
 * added float16 to them (ONNX Operators.md, QuantizeLinear-19 / DequantizeLinear-19). onnxruntime's
 * contrib ops with float scales (com.microsoft QLinearAdd, QGemm, ...) likewise. They keep float32,
 * with Casts around them, like the block list's ops.
 */
export function float32Only(n: NodeProto, opset: number): boolean {
  if (n.domain === '' || n.domain === 'ai.onnx') {
    if (n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear') return opset < 19;
    return n.opType === 'DynamicQuantizeLinear' || n.opType === 'QLinearConv' || n.opType === 'QLinearMatMul';
  }
  return (
    n.domain === 'com.microsoft' &&
    (n.opType.startsWith('QLinear') ||
      n.opType === 'QGemm' ||
      n.opType === 'DynamicQuantizeMatMul' ||
      n.opType === 'MatMulIntegerToFloat')
  );
}

/** Inputs that stay float32 whatever the model's precision (by the op's type constraints). */
export const FLOAT32_INPUTS: Record<string, readonly number[]> = { Resize: [2], Upsample: [1] };
