/** The graph walk's shared state and the ranges and quantization parameters of its activations. */
import { activationConfigFor } from '../../../core/config';
import { quantParams } from '../../../core/conventions';
import { QuantscopeError } from '../../../core/errors';
import type { QParams } from '../../../core/qparams';
import type { ModelProto, NodeProto } from '../../proto';
import type { TfliteEmitter, Quant, TflType } from './emitter';
import { tflShape, fail } from './layout';
import type { Val, TfliteOptions, TfliteCalibration } from './types';
import type { indexGraph } from '../../graph';

/** What every converter of the graph walk shares: the file being written, the values so far and the settings. */
export interface Base {
  readonly e: TfliteEmitter;
  readonly vals: Map<string, Val>;
  readonly index: ReturnType<typeof indexGraph>;
  readonly graph: NonNullable<ModelProto['graph']>;
  readonly opts: TfliteOptions;
  readonly calib: TfliteCalibration | undefined;
  readonly int8: boolean;
  readonly fp16: boolean;
  readonly actType: TflType;
  readonly floatIo: boolean;
  readonly derivedRanges: { tensor: string; how: string }[];
  readonly state: { biasesAdjusted: number };
}

/** Ranges and int8 parameters of activations, and the activation tensors made with them. */
export function makeQuant(c: Base) {
  const { e, vals, index, calib, int8, actType, derivedRanges } = c;
  const producerOp = (t: string) => index.producer.get(t)?.opType;
  const paramsFor = (t: string, lo: number, hi: number): QParams => {
    const act = activationConfigFor(calib!.config, t, producerOp(t));
    return quantParams(lo, hi, 'int8', { ...act, symmetric: false });
  };
  const calibrated = (t: string): readonly [number, number] | undefined => {
    const r = calib?.ranges.get(t);
    if (r === null) {
      throw new QuantscopeError(
        'TFLITE_NO_RANGE',
        `tensor "${t}" saw NaN or Infinity in calibration: it has no int8 range`,
      );
    }
    return r ? [r.rmin, r.rmax] : undefined;
  };
  /** Output parameters: the calibrated range when there is one, else the derived one (named in the report). */
  const outParams = (t: string, derived: readonly [number, number] | undefined, how: string): Val['q'] & object => {
    const c = calibrated(t);
    const r = c ?? derived;
    if (!r) throw new QuantscopeError('TFLITE_NO_RANGE', `tensor "${t}" has no calibrated range: calibrate it first`);
    if (!c) derivedRanges.push({ tensor: t, how });
    return paramsFor(t, r[0], r[1]);
  };
  const rangeOfQ = (q: QParams): [number, number] => [(-128 - q.zeroPoint) * q.scale, (127 - q.zeroPoint) * q.scale];
  const quant = (q: QParams | undefined): Quant | undefined =>
    q ? { scale: [q.scale], zeroPoint: [q.zeroPoint] } : undefined;

  const newAct = (name: string, shape: readonly number[], q?: QParams): Val => ({
    index: e.tensor(name, tflShape(shape), actType, int8 ? quant(q) : undefined),
    shape,
    ...(q ? { q, range: rangeOfQ(q) } : {}),
  });
  const val = (node: NodeProto, t: string): Val => {
    const v = vals.get(t);
    if (!v) fail(node, `input "${t}" is not produced by a node the writer handled`);
    return v;
  };
  return { paramsFor, calibrated, outParams, rangeOfQ, quant, newAct, val };
}

export type QuantCtx = Base & ReturnType<typeof makeQuant>;
