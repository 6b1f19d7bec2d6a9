/**
 * A model as text, one line per fact, for golden files: opsets and IR, inputs and outputs with types
 * and shapes, initializers with type and dims (values summarised by a checksum), and nodes in order
 * with their inputs, outputs and attributes; subgraphs indented.
 */
import { dataTypeName, readFloat32 } from './tensor';
import {
  valueInfoElemType,
  valueInfoShape,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type TensorProto,
} from './proto';

function checksum(t: TensorProto): string {
  // FNV-1a over the stored bytes (raw or typed fields), so a changed value changes the line
  let h = 0x811c9dc5;
  const bytes = t.rawData.length
    ? t.rawData
    : new Uint8Array(
        new Float64Array([...t.floatData, ...t.int32Data, ...t.int64Data.map(Number), ...t.doubleData]).buffer,
      );
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function attrText(a: AttributeProto): string {
  if (a.g) return `${a.name}=<graph ${a.g.name}>`;
  if (a.t) return `${a.name}=<tensor ${dataTypeName(a.t.dataType)} [${a.t.dims.join(',')}]>`;
  if (a.ints.length) return `${a.name}=[${a.ints.join(',')}]`;
  if (a.floats.length) return `${a.name}=[${a.floats.map((f) => Number(f.toPrecision(6))).join(',')}]`;
  if (a.s.length) return `${a.name}="${new TextDecoder().decode(a.s)}"`;
  if (a.type === 1) return `${a.name}=${Number(a.f.toPrecision(6))}`;
  return `${a.name}=${a.i}`;
}

function graphText(g: GraphProto, indent: string): string[] {
  const lines: string[] = [];
  const vi = (v: GraphProto['input'][number]) =>
    `${v.name}: ${dataTypeName(valueInfoElemType(v) ?? 0)} [${(valueInfoShape(v) ?? []).join(',')}]`;
  for (const v of g.input) lines.push(`${indent}input ${vi(v)}`);
  for (const v of g.output) lines.push(`${indent}output ${vi(v)}`);
  for (const t of g.initializer) {
    const sample =
      t.dataType === 1 && t.rawData.length >= 4 ? ` first=${Number(readFloat32(t)[0]!.toPrecision(6))}` : '';
    lines.push(`${indent}init ${t.name}: ${dataTypeName(t.dataType)} [${t.dims.join(',')}] #${checksum(t)}${sample}`);
  }
  for (const n of g.node) {
    const attrs = n.attribute.filter((a) => !a.g).map(attrText);
    lines.push(
      `${indent}${n.domain ? `${n.domain}.` : ''}${n.opType} "${n.name}" (${n.input.join(', ')}) -> (${n.output.join(', ')})${attrs.length ? ` {${attrs.join(', ')}}` : ''}`,
    );
    for (const a of n.attribute) if (a.g) lines.push(`${indent}  ${a.name}:`, ...graphText(a.g, `${indent}    `));
  }
  return lines;
}

export function dumpModel(m: ModelProto): string {
  const opsets = m.opsetImport.map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(' ');
  return [`ir ${m.irVersion} opsets ${opsets}`, ...graphText(m.graph!, '')].join('\n') + '\n';
}
