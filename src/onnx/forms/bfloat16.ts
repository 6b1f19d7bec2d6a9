/**
 * bfloat16 weight storage: weights are stored as bfloat16 (half the bytes, float32's range) and Cast
 * back to float32 where they are read; the arithmetic stays float32, so any runtime runs it.
 */
import { float32ToBfloat16Bits } from '../../core/minifloat';
import { uniqueNamer } from '../graph';
import {
  bytesOf,
  cloneSharingInitializers,
  defaultOpset,
  makeNode,
  makeTensor,
  type ModelProto,
  type NodeProto,
} from '../proto';
import { DT, readFloat32 } from '../tensor';
import type { FormReport } from './weightOnly';

/** bfloat16 weight storage: each float32 initializer stored as bfloat16, Cast back to float32 where read. */
export function storeWeightsBfloat16(model: ModelProto, minElements = 16): { model: ModelProto; report: FormReport } {
  const out = cloneSharingInitializers(model);
  const g = out.graph!;
  const name = uniqueNamer(g);
  const casts: NodeProto[] = [];
  const renamed = new Map<string, string>();
  let count = 0;
  g.initializer = g.initializer.map((t) => {
    if (t.dataType !== DT.FLOAT) return t;
    const values = readFloat32(t);
    if (values.length < minElements) return t; // scalars and shapes-like constants: not worth a Cast
    const stored = name(`${t.name}_bf16`);
    casts.push(makeNode('Cast', [stored], [t.name], name(`${t.name}_Cast_fp32`), { to: DT.FLOAT }));
    renamed.set(t.name, stored);
    count++;
    return makeTensor(stored, DT.BFLOAT16, t.dims.map(Number), bytesOf(float32ToBfloat16Bits(values)));
  });
  g.node = [...casts, ...g.node];
  g.input = g.input.filter((v) => !renamed.has(v.name));
  return {
    model: out,
    report: {
      form: 'bfloat16 weights',
      quantizedNodes: [],
      floatNodes: [],
      notes: [`${count} weights stored as bfloat16 and Cast to float32 where read`],
      opset: defaultOpset(out),
    },
  };
}
