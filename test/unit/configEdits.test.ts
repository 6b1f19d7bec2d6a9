/**
 * The page's configuration edits (core/configEdits.ts): each edit sets what the explorer and the export
 * read (activationConfigFor / weightConfigFor / isExcluded), an unset field falls back to the level above,
 * and a tensor's reset removes every trace of it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  activationConfigFor,
  DEFAULT_CONFIG,
  isExcluded,
  weightConfigFor,
  type QuantConfig,
} from '../../src/core/config';
import { applyConfigEdit, type ConfigEdit } from '../../src/core/configEdits';
import { NO_VARIANT_FIELDS } from '../../src/core/methods';

const apply = (edits: readonly ConfigEdit[], c: QuantConfig = DEFAULT_CONFIG) => edits.reduce(applyConfigEdit, c);

describe('configuration edits', () => {
  it('model, op-type and tensor activation choices, most specific first', () => {
    const c = apply([
      { kind: 'activations', set: { dtype: 'uint8', method: 'percentile', percentile: 99.9 } },
      { kind: 'op-type', opType: 'Conv', set: { activations: { method: 'entropy' } } },
      { kind: 'tensor', tensor: 't', activations: { dtype: 'int16' } },
    ]);
    expect(activationConfigFor(c, 'other', 'Relu')).toMatchObject({ dtype: 'uint8', method: 'percentile' });
    expect(activationConfigFor(c, 'other', 'Conv')).toMatchObject({ dtype: 'uint8', method: 'entropy' });
    expect(activationConfigFor(c, 't', 'Conv')).toMatchObject({ dtype: 'int16', method: 'entropy' });
    // The op type's method unset: it falls back to the model's again, and leaves no undefined fields behind.
    const back = applyConfigEdit(c, { kind: 'op-type', opType: 'Conv', set: { activations: NO_VARIANT_FIELDS } });
    expect(activationConfigFor(back, 'other', 'Conv').method).toBe('percentile');
    expect(Object.keys(back.opTypes!.Conv!.activations!)).toEqual([]);
  });

  it('a tensor reset removes its overrides; keep float is set and cleared', () => {
    const c = apply([
      { kind: 'tensor', tensor: 't', activations: { symmetric: true } },
      { kind: 'tensor', tensor: 't', activations: {}, exclude: true },
    ]);
    expect(c.tensors!.t).toEqual({ activations: { symmetric: true }, exclude: true });
    const reset = applyConfigEdit(c, { kind: 'tensor', tensor: 't', activations: null });
    expect(reset.tensors).toEqual({});
  });

  it('node weight choices merge: granularity and rounding of one node do not erase each other', () => {
    const c = apply([
      { kind: 'node', node: 'conv1', weights: { algorithm: 'gptq' } },
      { kind: 'node', node: 'conv1', weights: { perChannel: false } },
      { kind: 'node', node: 'conv2', exclude: true },
    ]);
    expect(weightConfigFor(c, 'conv1', 'Conv')).toMatchObject({ algorithm: 'gptq', perChannel: false });
    expect(isExcluded(c, 'conv2', 'Conv')).toBe(true);
    const d = applyConfigEdit(c, { kind: 'node', node: 'conv1', weights: { algorithm: undefined } });
    expect(d.nodes!.conv1).toEqual({ weights: { perChannel: false } });
    expect(weightConfigFor(d, 'conv1', 'Conv').algorithm).toBe(DEFAULT_CONFIG.weights.algorithm);
  });

  it('convention sets both activations and weights; preset and form replace what they own', () => {
    const c = apply([
      { kind: 'convention', convention: 'pytorch' },
      { kind: 'form', form: { kind: 'float16', keepIoTypes: true } },
    ]);
    expect([c.activations.convention, c.weights.convention]).toEqual(['pytorch', 'pytorch']);
    expect(c.form?.kind).toBe('float16');
    const p = applyConfigEdit(DEFAULT_CONFIG, { kind: 'preset', preset: 'fbgemm' });
    expect(p.activations).toMatchObject({ dtype: 'uint8', reduceRange: true });
  });

  it('edits never mutate the configuration they are given (the store keeps the old one for undo and diffing)', () => {
    const edits = fc.constantFrom<ConfigEdit>(
      { kind: 'activations', set: { dtype: 'int16' } },
      { kind: 'weights', set: { perChannel: false, blockSize: 32 } },
      { kind: 'op-type', opType: 'MatMul', set: { exclude: true } },
      { kind: 'tensor', tensor: 'x', activations: { symmetric: true } },
      { kind: 'tensor', tensor: 'x', activations: null },
      { kind: 'node', node: 'n', weights: { dtype: 'int4' } },
    );
    fc.assert(
      fc.property(fc.array(edits, { maxLength: 8 }), (list) => {
        const frozen = JSON.stringify(DEFAULT_CONFIG);
        let c = DEFAULT_CONFIG;
        for (const e of list) {
          const before = JSON.stringify(c);
          const next = applyConfigEdit(c, e);
          expect(JSON.stringify(c)).toBe(before);
          c = next;
        }
        expect(JSON.stringify(DEFAULT_CONFIG)).toBe(frozen);
      }),
    );
  });
});
