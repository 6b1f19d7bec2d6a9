/** The ONNX → TFLite writer's options, results and the value type flowing through the graph walk. */
import type { QuantConfig } from '../../../core/config';
import type { QParams } from '../../../core/qparams';
import type { QuantPlan } from '../../plan';
import type { TensorRange } from '../../qdq';
import type { TfliteEmitter } from './emitter';

export type TflitePrecision = 'int8' | 'float16' | 'float32';

export interface TfliteOptions {
  readonly precision: TflitePrecision;
  /** int8 files: integer inputs and outputs (microcontrollers) or float edges with QUANTIZE/DEQUANTIZE (default). */
  readonly io?: 'int8' | 'float';
  /** FULLY_CONNECTED weights per output channel instead of per tensor. */
  readonly fullyConnectedPerChannel?: boolean;
  /** Shapes (ONNX order) for inputs with dynamic dimensions. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
}

export interface TfliteCalibration {
  readonly plan: QuantPlan;
  readonly ranges: ReadonlyMap<string, TensorRange | null>;
  readonly config: QuantConfig;
}

export interface TfliteIo {
  readonly name: string;
  /** The file's shape (NHWC for rank 4). */
  readonly shape: readonly number[];
  readonly onnxShape: readonly number[];
  readonly type: 'int8' | 'float32';
  readonly scale?: number;
  readonly zeroPoint?: number;
}

export interface TfliteBuild {
  readonly emitter: TfliteEmitter;
  readonly graphInputs: readonly number[];
  readonly graphOutputs: readonly number[];
  readonly inputs: readonly TfliteIo[];
  readonly outputs: readonly TfliteIo[];
  /** Activations whose range the spec fixed or the writer derived (not calibrated). */
  readonly derivedRanges: readonly { tensor: string; how: string }[];
  readonly biasesAdjusted: number;
  /** Shape nodes computed for the given input shapes (passes/freezeShapes), with what they made constant. */
  readonly shapesFixed: number;
}

/** A value flowing through the graph: its TFLite tensor, its ONNX shape and (int8) its parameters. */
export interface Val {
  readonly index: number;
  readonly shape: readonly number[];
  readonly q?: QParams;
  readonly range?: readonly [number, number];
}
