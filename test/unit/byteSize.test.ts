import { expect, it } from 'vitest';
import { byteSize } from '../../src/core/byteSize';

it('says bytes at a scale that shows them: KiB for a small model’s activations, never 0.0 MiB', () => {
  expect(byteSize(12_345)).toBe('12.1 KiB');
  expect(byteSize(1024 ** 2 - 1)).toBe('1024.0 KiB');
  expect(byteSize(1024 ** 2)).toBe('1.0 MiB');
  expect(byteSize(119.8 * 1024 ** 2)).toBe('119.8 MiB');
  expect(byteSize(2.3 * 1024 ** 3)).toBe('2.30 GiB');
});
