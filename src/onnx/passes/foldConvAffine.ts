/**
 * Pass: fold a scalar Mul and Add that directly follow a Conv into its weights and bias:
 *   Conv(x; W, B) · a + b  =  Conv(x; a·W, a·B + b)
 * PP-LCNetV3 (PP-OCRv4's backbone) puts such a learnable affine block after many convolutions;
 * left in place, each adds a requantization point whose error the model cannot absorb.
 * Only one-element constants fold (a per-channel vector would need its layout checked), and only
 * when the Conv's output feeds the Mul or Add alone.
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { indexGraph, uniqueNamer, pruneInitializers } from '../graph';
import { bytesOf, dimsOf, makeTensor, type ModelProto, type NodeProto } from '../proto';
import { DT, elementCount, readFloat32 } from '../tensor';

export function foldConvAffine(model: ModelProto): { model: ModelProto; folded: number } {
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph!;
  const name = uniqueNamer(graph);
  let folded = 0;
  for (let changed = true; changed;) {
    changed = false;
    const index = indexGraph(graph);
    for (const op of graph.node) {
      if (op.opType !== 'Mul' && op.opType !== 'Add') continue;
      const constIdx = op.input.findIndex((t) => index.initializers.has(t));
      if (constIdx < 0 || op.input.length !== 2) continue;
      const c = index.initializers.get(op.input[constIdx]!)!;
      if (c.dataType !== DT.FLOAT || elementCount(c) !== 1) continue;
      const x = op.input[1 - constIdx]!;
      const conv = index.producer.get(x);
      if (!conv || conv.opType !== 'Conv' || (index.consumers.get(x)?.length ?? 0) !== 1 || index.graphOutputs.has(x))
        continue;
      const wt = index.initializers.get(conv.input[1]!);
      const bt = conv.input[2] ? index.initializers.get(conv.input[2]) : undefined;
      if (!wt || wt.dataType !== DT.FLOAT || (conv.input[2] && !bt)) continue;
      const v = readFloat32(c)[0]!;
      const dims = dimsOf(wt);
      const channels = dims[0]!;
      const b = bt ? readFloat32(bt) : new Float32Array(channels);
      let wName = conv.input[1]!;
      if (op.opType === 'Mul') {
        const w2 = readFloat32(wt).map((w) => w * v);
        wName = name(`${wt.name}_scaled`);
        graph.initializer.push(makeTensor(wName, DT.FLOAT, dims, bytesOf(w2)));
      }
      const b2 = b.map((bv) => (op.opType === 'Mul' ? bv * v : bv + v));
      const bName = name(`${conv.name}_affine_bias`);
      graph.initializer.push(makeTensor(bName, DT.FLOAT, [channels], bytesOf(b2)));
      conv.input = [conv.input[0]!, wName, bName];
      conv.output = [op.output[0]!];
      graph.node = graph.node.filter((n: NodeProto) => n !== op);
      folded++;
      changed = true;
      break;
    }
  }
  pruneInitializers(graph); // subgraphs' outer-scope reads count as reads
  return { model: out, folded };
}
