/**
 * ONNX → TFLite: the prepared ONNX graph rewritten into TFLite builtin ops, float32, float16 weights or
 * fully int8, following TFLite's int8 quantization specification
 * (https://www.tensorflow.org/lite/performance/quantization_spec). The spec's table, as applied here:
 *
 *   activations            int8, asymmetric, per tensor, zero point in [-128, 127]
 *   CONV_2D weights        int8, symmetric, per output channel (dim 0), zero point 0, range [-127, 127]
 *   DEPTHWISE_CONV_2D w.   int8, symmetric, per output channel (dim 3), zero point 0, range [-127, 127]
 *   TRANSPOSE_CONV w.      int8, symmetric, per output channel (dim 0), zero point 0
 *   FULLY_CONNECTED w.     int8, symmetric, per tensor (per channel, dim 0, as an option), zero point 0
 *   bias                   int32, scale = input_scale * weight_scale[c], zero point 0
 *   LOGISTIC output        scale 1/256, zero point -128
 *   SOFTMAX output         scale 1/256, zero point -128
 *   TANH output            scale 1/128, zero point 0
 *   MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, TRANSPOSE, PAD, SLICE, STRIDED_SLICE, RESIZE_BILINEAR,
 *   RESIZE_NEAREST_NEIGHBOR, MAXIMUM, MINIMUM, CONCATENATION: output (scale, zero point) = input's
 *   (CONCATENATION: inputs whose parameters differ are requantized to the output's with QUANTIZE)
 * Everywhere else the output keeps the range the user set (the calibrated range of the static QDQ
 * export, through the same `quantParams`), so both files make the same choices. A weight scale is
 * enlarged where input_scale * weight_scale would overflow the int32 bias (onnxruntime's
 * _adjust_weight_scale_for_int32_bias, the same floor the QDQ export applies).
 *
 * Layout: every rank-4 tensor is NHWC in the file (inputs and outputs too: the file takes the pixels
 * as phones and microcontrollers hold them), everything else keeps ONNX's order. Weights are permuted
 * once, axes of Concat, Slice, Pad, Softmax and Transpose are remapped, and a TRANSPOSE is written
 * only where a rank changes across a Reshape/Flatten/Squeeze whose memory order differs between the
 * layouts (never around every op).
 */
import { QuantscopeError } from '../../../core/errors';
import { indexGraph } from '../../graph';
import { freezeShapes } from '../../passes/freezeShapes';
import type { ModelProto } from '../../proto';
import { cancelTransposes } from './cancel';
import { makeCtx } from './ctx';
import { TfliteEmitter, type TflType } from './emitter';
import { encodeTflite } from './flatbuffer';
import { writeInputs, writeOutputs } from './io';
import { fail } from './layout';
import { convertClip, convertSigmoid, convertSoftmax, convertHardSwish, convertHardSigmoid } from './ops-activation';
import { convertElementwise, convertDiv, convertBatchNormalization } from './ops-arith';
import { convertConv, convertConvTranspose, convertGemm } from './ops-conv';
import { convertReshape, convertFlatten, convertSqueeze, convertTranspose } from './ops-shape';
import {
  convertConcat,
  convertPool,
  convertGlobalAveragePool,
  convertPad,
  convertResize,
  convertSlice,
} from './ops-spatial';
import { refusedNodes } from './ops';
import type { TfliteBuild, TfliteCalibration, TfliteOptions, Val } from './types';

export { permute, tflShape } from './layout';
export type { TfliteBuild, TfliteCalibration, TfliteIo, TfliteOptions, TflitePrecision } from './types';

export function buildTflite(given: ModelProto, opts: TfliteOptions, calib?: TfliteCalibration): TfliteBuild {
  // TFLite's shapes are fixed: the shape arithmetic an exporter left for run time is computed for
  // the inputs' shapes (a Reshape to Shape(x) becomes a Reshape to a constant)
  const frozen =
    opts.inputShapes && Object.keys(opts.inputShapes).length ? freezeShapes(given, opts.inputShapes) : null;
  const model = frozen?.model ?? given;
  const refused = refusedNodes(model);
  if (refused.length) {
    throw new QuantscopeError(
      'TFLITE_UNSUPPORTED',
      `TFLite has no builtin op for ${refused.length === 1 ? 'this node' : `these ${refused.length} nodes`}: ${refused
        .slice(0, 8)
        .map((r) => `node "${r.node}" (${r.opType}): ${r.reason}`)
        .join('; ')}${refused.length > 8 ? `; and ${refused.length - 8} more` : ''}`,
    );
  }
  const int8 = opts.precision === 'int8';
  if (int8 && !calib)
    throw new QuantscopeError('NO_STATISTICS', 'TFLite int8 needs calibrated ranges: calibrate first');
  const fp16 = opts.precision === 'float16';
  const graph = model.graph!;
  const index = indexGraph(graph);
  const e = new TfliteEmitter();
  const vals = new Map<string, Val>();
  const derivedRanges: { tensor: string; how: string }[] = [];
  const state = { biasesAdjusted: 0 };
  const actType: TflType = int8 ? 'INT8' : 'FLOAT32';
  const floatIo = !int8 || (opts.io ?? 'float') === 'float';
  const c = makeCtx({ e, vals, index, graph, opts, calib, int8, fp16, actType, floatIo, derivedRanges, state });
  const { val, fusedAway } = c;

  // ---- inputs ----
  const { inputs, graphInputs } = writeInputs(c);

  // ---- the nodes ----
  for (const node of graph.node) {
    if (fusedAway.has(node.name)) continue;
    const x0 = node.input[0];
    switch (node.opType) {
      case 'Identity': {
        vals.set(node.output[0]!, val(node, x0!));
        break;
      }
      case 'Add':
        convertElementwise(c, node, 'ADD');
        break;
      case 'Sub':
        convertElementwise(c, node, 'SUB');
        break;
      case 'Mul':
        convertElementwise(c, node, 'MUL');
        break;
      case 'Conv':
        convertConv(c, node);
        break;
      case 'ConvTranspose':
        convertConvTranspose(c, node);
        break;
      case 'Gemm':
      case 'MatMul':
        convertGemm(c, node);
        break;
      case 'Div':
        convertDiv(c, node);
        break;
      case 'Relu':
      case 'Clip':
        convertClip(c, node);
        break;
      case 'Sigmoid':
      case 'Tanh':
        convertSigmoid(c, node);
        break;
      case 'Softmax':
        convertSoftmax(c, node);
        break;
      case 'HardSwish':
        convertHardSwish(c, node);
        break;
      case 'HardSigmoid':
        convertHardSigmoid(c, node);
        break;
      case 'BatchNormalization':
        convertBatchNormalization(c, node);
        break;
      case 'Concat':
        convertConcat(c, node);
        break;
      case 'MaxPool':
      case 'AveragePool':
        convertPool(c, node);
        break;
      case 'GlobalAveragePool':
        convertGlobalAveragePool(c, node);
        break;
      case 'Reshape':
        convertReshape(c, node);
        break;
      case 'Flatten':
        convertFlatten(c, node);
        break;
      case 'Squeeze':
      case 'Unsqueeze':
        convertSqueeze(c, node);
        break;
      case 'Transpose':
        convertTranspose(c, node);
        break;
      case 'Pad':
        convertPad(c, node);
        break;
      case 'Resize':
        convertResize(c, node);
        break;
      case 'Slice':
        convertSlice(c, node);
        break;
      default:
        fail(node, 'no TFLite mapping');
    }
  }

  // ---- outputs ----
  const { outputs, graphOutputs } = writeOutputs(c);
  cancelTransposes(e, graphOutputs);
  return {
    emitter: e,
    inputs,
    outputs,
    graphInputs,
    graphOutputs,
    derivedRanges,
    biasesAdjusted: state.biasesAdjusted,
    shapesFixed: frozen?.shapes ?? 0,
  };
}

/** The file's bytes from a build. */
export function writeTflite(build: TfliteBuild, description: string): Uint8Array {
  return encodeTflite(build.emitter.model(build.graphInputs, build.graphOutputs, description));
}
