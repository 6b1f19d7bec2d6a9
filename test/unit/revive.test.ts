/**
 * A model sent through postMessage (structured clone) loses the prototypes where @bufbuild/protobuf keeps
 * proto2 defaults; reviveOnnxMessages puts them back. Checked on PP-OCRv4 rec: the clone plans nothing,
 * the revived clone plans what the original plans and encodes to the same bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { decodeModel, encodeModel, planQuantization, prepareModel } from '../../src/onnx';
import { reviveOnnxMessages } from '../../src/onnx/revive';
import { ROOT } from '../helpers/sample';

const REC = join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');

describe('ONNX messages after a structured clone', () => {
  it('plan and bytes as before the clone', () => {
    const model = prepareModel(decodeModel(new Uint8Array(readFileSync(REC)), 'rec.onnx')).model;
    const plan = planQuantization(model, DEFAULT_CONFIG);
    expect(plan.nodes.length).toBeGreaterThan(100);

    const cloned = structuredClone({ prepared: model, other: [new Float32Array(3), new Map([['a', { b: 1 }]])] });
    expect(cloned.prepared.graph!.node[0]!.domain).toBeUndefined(); // what the page received
    expect(planQuantization(cloned.prepared, DEFAULT_CONFIG).nodes.length).toBe(0);

    const revived = reviveOnnxMessages(cloned);
    expect(revived.prepared.graph!.node[0]!.domain).toBe('');
    expect(planQuantization(revived.prepared, DEFAULT_CONFIG)).toEqual(plan);
    expect(Buffer.from(encodeModel(revived.prepared)).equals(Buffer.from(encodeModel(model)))).toBe(true);
    expect(revived.other[0]).toBeInstanceOf(Float32Array);
  });
});
