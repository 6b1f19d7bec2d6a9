/** The file's inputs and outputs: shapes (NHWC for rank 4), types and, for int8 edges, their parameters. */
import { QuantscopeError } from '../../../core/errors';
import type { QParams } from '../../../core/qparams';
import { valueInfoShape } from '../../proto';
import { tflShape } from './layout';
import type { TfliteIo } from './types';
import type { QuantCtx } from './context';

/** The graph inputs (QUANTIZE after float inputs in int8 files with float edges). */
export function writeInputs(c: QuantCtx): { inputs: TfliteIo[]; graphInputs: number[] } {
  const { e, vals, index, graph, opts, int8, floatIo, paramsFor, calibrated, newAct } = c;
  const inputs: TfliteIo[] = [];
  const graphInputs: number[] = [];
  for (const v of graph.input) {
    if (index.initializers.has(v.name)) continue;
    const declared = valueInfoShape(v) ?? [];
    const given = opts.inputShapes?.[v.name];
    const shape = declared.map((d, i) => (typeof d === 'number' && d > 0 ? d : given?.[i]));
    if (
      shape.some((d) => d === undefined) ||
      (given &&
        given.some((d, i) => typeof declared[i] === 'number' && declared[i] !== d && (declared[i] as number) > 0))
    ) {
      throw new QuantscopeError(
        'TFLITE_DYNAMIC_SHAPE',
        `input "${v.name}" has dynamic dimensions [${declared.join(', ')}]: TFLite needs a fixed shape (give one, e.g. from the calibration data)`,
      );
    }
    const s = shape as number[];
    let q: QParams | undefined;
    if (int8) {
      const r = calibrated(v.name);
      if (!r) throw new QuantscopeError('TFLITE_NO_RANGE', `input "${v.name}" has no calibrated range`);
      q = paramsFor(v.name, r[0], r[1]);
    }
    if (int8 && floatIo) {
      const f = e.tensor(v.name, tflShape(s), 'FLOAT32');
      const val8 = newAct(`${v.name}_int8`, s, q);
      e.op('QUANTIZE', [f], [val8.index], v.name);
      graphInputs.push(f);
      vals.set(v.name, val8);
      inputs.push({ name: v.name, shape: tflShape(s), onnxShape: s, type: 'float32' });
    } else {
      const val0 = newAct(v.name, s, q);
      graphInputs.push(val0.index);
      vals.set(v.name, val0);
      inputs.push({
        name: v.name,
        shape: tflShape(s),
        onnxShape: s,
        type: int8 ? 'int8' : 'float32',
        ...(q ? { scale: q.scale, zeroPoint: q.zeroPoint } : {}),
      });
    }
  }
  return { inputs, graphInputs };
}

/** The graph outputs (DEQUANTIZE before float outputs in int8 files with float edges). */
export function writeOutputs(c: QuantCtx): { outputs: TfliteIo[]; graphOutputs: number[] } {
  const { e, vals, graph, int8, floatIo } = c;
  const outputs: TfliteIo[] = [];
  const graphOutputs: number[] = [];
  for (const o of graph.output) {
    const v = vals.get(o.name);
    if (!v)
      throw new QuantscopeError(
        'TFLITE_UNSUPPORTED',
        `output "${o.name}" is not produced by a node the writer handled`,
      );
    if (int8 && floatIo) {
      const f = e.tensor(o.name, tflShape(v.shape), 'FLOAT32');
      e.tensors[v.index] = { ...e.tensors[v.index]!, name: e.uniqueName(`${o.name}_int8`) };
      e.op('DEQUANTIZE', [v.index], [f], o.name);
      graphOutputs.push(f);
      outputs.push({ name: o.name, shape: tflShape(v.shape), onnxShape: v.shape, type: 'float32' });
    } else {
      graphOutputs.push(v.index);
      outputs.push({
        name: o.name,
        shape: tflShape(v.shape),
        onnxShape: v.shape,
        type: int8 ? 'int8' : 'float32',
        ...(v.q ? { scale: v.q.scale, zeroPoint: v.q.zeroPoint } : {}),
      });
    }
  }
  return { outputs, graphOutputs };
}
