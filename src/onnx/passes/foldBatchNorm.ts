/**
 * Pass: fold BatchNormalization (inference form, one output) into the Conv or ConvTranspose that
 * feeds it alone (onnx/docs/Operators.md, BatchNormalization):
 *   y = γ (x − μ) / √(σ² + ε) + β  with x = W∗input + B
 *   ⇒ W' = W · k[m],  B' = (B − μ) · k + β,  k = γ / √(σ² + ε)   per output channel m.
 * Left unfolded, the conv's output carries the un-normalised range (±20000 in PP-OCRv4 det), which no
 * 8-bit grid can hold. Conv output channels are axis 0 of W; ConvTranspose's are axis 1 (group 1 only).
 */
import { clone } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { indexGraph, uniqueNamer, pruneInitializers } from '../graph';
import { attrFloat, attrInt, bytesOf, dimsOf, makeTensor, type ModelProto, type NodeProto } from '../proto';
import { DT, readFloat32 } from '../tensor';

export function foldBatchNorm(model: ModelProto): { model: ModelProto; folded: number } {
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph!;
  const index = indexGraph(graph);
  const name = uniqueNamer(graph);
  const remove = new Set<NodeProto>();
  let folded = 0;
  for (const bn of graph.node) {
    if (bn.opType !== 'BatchNormalization' || bn.output.filter(Boolean).length !== 1) continue;
    const x = bn.input[0]!;
    const conv = index.producer.get(x);
    if (!conv || (conv.opType !== 'Conv' && conv.opType !== 'ConvTranspose')) continue;
    if ((index.consumers.get(x)?.length ?? 0) !== 1 || index.graphOutputs.has(x)) continue;
    const group = attrInt(conv, 'group', 1);
    if (conv.opType === 'ConvTranspose' && group !== 1) continue;
    const wt = index.initializers.get(conv.input[1]!);
    const params = bn.input.slice(1, 5).map((t) => index.initializers.get(t));
    if (!wt || wt.dataType !== DT.FLOAT || params.some((p) => !p || p.dataType !== DT.FLOAT)) continue;
    const bt = conv.input[2] ? index.initializers.get(conv.input[2]) : undefined;
    if (conv.input[2] && !bt) continue;
    const [gamma, beta, mean, variance] = params.map((p) => readFloat32(p!)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const w = readFloat32(wt);
    const dims = dimsOf(wt);
    const channels = gamma.length;
    const k = Float64Array.from(gamma, (g, m) => g / Math.sqrt(variance[m]! + eps));
    const inner = dims.slice(2).reduce((a, b) => a * b, 1);
    const w2 = new Float32Array(w.length);
    if (conv.opType === 'Conv') {
      const per = w.length / channels;
      for (let i = 0; i < w.length; i++) w2[i] = w[i]! * k[Math.floor(i / per)]!;
    } else {
      const m = dims[1]!;
      for (let i = 0; i < w.length; i++) w2[i] = w[i]! * k[Math.floor(i / inner) % m]!;
    }
    const b = bt ? readFloat32(bt) : new Float32Array(channels);
    const b2 = Float32Array.from(b, (v, m) => (v - mean[m]!) * k[m]! + beta[m]!);
    const wName = name(`${wt.name}_bn_folded`);
    const bName = name(`${bn.name || x}_folded_bias`);
    graph.initializer.push(
      makeTensor(wName, DT.FLOAT, dims, bytesOf(w2)),
      makeTensor(bName, DT.FLOAT, [channels], bytesOf(b2)),
    );
    conv.input = [conv.input[0]!, wName, bName];
    conv.output = [bn.output[0]!];
    remove.add(bn);
    folded++;
  }
  graph.node = graph.node.filter((n) => !remove.has(n));
  // Initializers only the folded nodes read are dropped.
  pruneInitializers(graph); // subgraphs' outer-scope reads count as reads
  return { model: out, folded };
}
