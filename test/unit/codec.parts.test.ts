/**
 * The model written as parts (raw tensor bytes passed through, never copied into one buffer) is byte
 * for byte the protobuf encoder's output: for models with raw and typed initializers, subgraphs,
 * several opsets, and a quantized export.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { encodeModel, encodeModelParts, exportForm, type ModelProto } from '../../src/onnx';
import { concat } from '../helpers/arrays';
import { nanAndZeroNet, tinyConvNet, tinyTransformer } from '../helpers/models';

describe('encodeModelParts', () => {
  const models: [string, ModelProto][] = [
    ['conv net', tinyConvNet()],
    ['NaN net', nanAndZeroNet()],
    ['transformer', tinyTransformer({ layers: 1 })],
    [
      'q4f16 transformer',
      exportForm(tinyTransformer({ layers: 1 }), { ...DEFAULT_CONFIG, form: { kind: 'q4f16', blockSize: 32 } }).model,
    ],
  ];
  it.each(models)('%s: the parts concatenate to encodeModel’s bytes', (_n, m) => {
    const parts = encodeModelParts(m);
    expect(parts.length).toBeGreaterThan(3);
    expect(Buffer.from(concat(parts)).equals(Buffer.from(encodeModel(m)))).toBe(true);
  });

  it('passes raw tensor bytes through without copying them', () => {
    const m = tinyTransformer({ layers: 1 });
    const raw = m.graph!.initializer.find((t) => t.name === 'embedding')!.rawData;
    expect(encodeModelParts(m).some((p) => p === raw)).toBe(true);
  });
});
