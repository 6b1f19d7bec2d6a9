/** What a tuned configuration changed, read from the start and the configuration in use. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type QuantConfig } from '../../src/core/config';
import { configChanges } from '../../src/state/tuneChanges';

describe('configChanges', () => {
  it('lists the model-wide fields that differ, then each tensor and node override', () => {
    const now: QuantConfig = {
      ...DEFAULT_CONFIG,
      activations: { ...DEFAULT_CONFIG.activations, dtype: 'int16' },
      tensors: { relu: { exclude: true }, conv: { activations: { dtype: 'int16' } } },
      nodes: { fc: { weights: { dtype: 'int8', blockSize: null } } },
    };
    expect(configChanges(DEFAULT_CONFIG, now)).toEqual([
      { where: 'model', kind: 'model', choice: 'activations dtype int8 → int16' },
      { where: 'relu', kind: 'tensor', choice: 'kept float' },
      { where: 'conv', kind: 'tensor', choice: 'activations dtype int16' },
      { where: 'fc', kind: 'node', choice: 'weights dtype int8, blockSize null' },
    ]);
  });

  it('is empty for the same configuration, and names an override taken back', () => {
    expect(configChanges(DEFAULT_CONFIG, { ...DEFAULT_CONFIG })).toEqual([]);
    const start: QuantConfig = { ...DEFAULT_CONFIG, tensors: { x: { exclude: true } } };
    expect(configChanges(start, DEFAULT_CONFIG)).toEqual([
      { where: 'x', kind: 'tensor', choice: 'back to the model-wide settings' },
    ]);
  });
});
