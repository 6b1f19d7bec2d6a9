/**
 * The histogram's range labels (src/ui/rangeLabels.ts), as properties: over random sets of ranges,
 * crowded near the plot's right edge or spread out, no two labels in a row meet and every label lies
 * inside the plot; a label that would run past the right edge goes to the left of its line. The
 * checker itself is shown to catch labels stacked in one row.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/random';
import { placeRangeLabels, type PlacedLabel, type RangeLabel } from '../../src/ui/rangeLabels';

const LEFT = 64;
const RIGHT = 600;

function problems(placed: readonly PlacedLabel[]): string[] {
  const out: string[] = [];
  for (const [i, a] of placed.entries()) {
    if (a.left < LEFT || a.right > RIGHT) out.push(`${a.key} outside the plot`);
    for (const b of placed.slice(i + 1))
      if (a.row === b.row && a.left < b.right && b.left < a.right) out.push(`${a.key} meets ${b.key}`);
  }
  return out;
}

function randomLabels(seed: number, crowded: boolean): RangeLabel[] {
  const r = mulberry32(seed);
  const n = 2 + Math.floor(r() * 10);
  return Array.from({ length: n }, (_, k) => ({
    key: `l${k}`,
    x: crowded ? RIGHT - r() * 40 : LEFT + r() * (RIGHT - LEFT),
    width: 10 + r() * 90,
    prefer: r() < 0.7 ? ('right' as const) : ('left' as const),
  }));
}

describe('range labels', () => {
  it('never meet and stay inside the plot, crowded at its right edge or spread out', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const labels = randomLabels(seed, seed % 2 === 0);
      const placed = placeRangeLabels(labels, LEFT, RIGHT);
      expect(placed.map((p) => p.key)).toEqual(labels.map((l) => l.key));
      expect(problems(placed), `seed ${seed}`).toEqual([]);
    }
  });

  it('a label with no room right of its line goes to its left; later labels keep clear of those given', () => {
    const [own] = placeRangeLabels([{ key: 'max', x: RIGHT - 5, width: 30, prefer: 'right' }], LEFT, RIGHT);
    expect(own!.right).toBeLessThanOrEqual(RIGHT - 5);
    expect(own!.row).toBe(0);
    const theirs = placeRangeLabels([{ key: 'MA', x: RIGHT - 8, width: 20, prefer: 'right' }], LEFT, RIGHT, 0, [own!]);
    expect(theirs[0]!.row).toBe(1);
    expect(problems([own!, ...theirs])).toEqual([]);
  });

  it('the checker catches labels stacked in one row', () => {
    const placed = placeRangeLabels(randomLabels(4, true), LEFT, RIGHT).map((p) => ({ ...p, row: 0 }));
    expect(problems(placed).some((p) => p.includes('meets'))).toBe(true);
  });
});
