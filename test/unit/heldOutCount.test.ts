import { expect, it } from 'vitest';
import { heldOutCount } from '../../src/state/heldOutSamples';
import type { AppState } from '../../src/state/types';

/** The fields heldOutCount reads, the rest left out. */
function state(s: Partial<Record<keyof AppState, unknown>>): AppState {
  return {
    model: null,
    dataKind: 'none',
    images: [],
    tensorSamples: [],
    generatedCount: 0,
    ...s,
  } as unknown as AppState;
}

it('offers the debugger only the held-out samples it would run on', () => {
  // the built-in documents have 2 held-out pages, the text lines 8 (the debugger takes at most 4)
  expect(heldOutCount(state({ model: { ocr: 'det', isSample: true } }), 4)).toBe(2);
  expect(heldOutCount(state({ model: { ocr: 'rec', isSample: true } }), 4)).toBe(4);
  // a user's data: the last fifth of the calibration samples (guardSplit), at least one
  const images = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `${i}.png` }));
  expect(heldOutCount(state({ model: {}, dataKind: 'images', images: images(16) }), 4)).toBe(4);
  expect(heldOutCount(state({ model: {}, dataKind: 'images', images: images(10) }), 4)).toBe(2);
  expect(heldOutCount(state({ model: {}, dataKind: 'tensors', tensorSamples: images(3) }), 4)).toBe(1);
  expect(heldOutCount(state({ model: {}, dataKind: 'generated', generatedCount: 8 }), 4)).toBe(2);
  expect(heldOutCount(state({ model: {}, dataKind: 'none' }), 4)).toBe(0);
});
