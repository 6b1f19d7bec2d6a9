/** The written file's nudged inputs (runtime/tune/nudge.ts): seeded, small, float inputs only. */
import { describe, expect, it } from 'vitest';
import { NUDGE_FRACTION, nudgedFeeds } from '../../src/runtime/tune/nudge';

describe('nudgedFeeds', () => {
  const feeds = {
    x: { data: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 2), dims: [1, 64] },
    sr: { type: 'int64' as const, data: BigInt64Array.from([16000n]), dims: [1] },
  };

  it('moves every float value by at most NUDGE_FRACTION of the peak, the same way for the same seed', () => {
    const a = nudgedFeeds(feeds, 1).x!.data as Float32Array;
    const b = nudgedFeeds(feeds, 1).x!.data as Float32Array;
    const c = nudgedFeeds(feeds, 2).x!.data as Float32Array;
    const x = feeds.x.data;
    const peak = Math.max(...x.map(Math.abs));
    let moved = 0;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(a[i]! - x[i]!);
      expect(d).toBeLessThanOrEqual(NUDGE_FRACTION * peak * (1 + 1e-6));
      if (d > 0) moved++;
    }
    expect(moved).toBeGreaterThan(56); // nearly every value moves
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(feeds.x.data[3]).toBe(Math.fround(Math.sin(3) * 2)); // the given feeds stay as they were
  });

  it('leaves integer inputs alone', () => {
    expect(nudgedFeeds(feeds, 1).sr).toBe(feeds.sr);
  });
});
