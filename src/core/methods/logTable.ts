/**
 * Natural logarithms of small integers from a table built once (the same bits as Math.log): the
 * entropy searches take the log of counts and count averages, most of them small integers.
 */
const SIZE = 4096;
/** Math.log(v) for v = 0..4095 (the block sums' WASM kernel reads the same values). */
export const LOG_TABLE = Float64Array.from({ length: SIZE }, (_, v) => Math.log(v));

/** Math.log(x), from the table when x is an integer below 4096. */
export function logCount(x: number): number {
  return x < SIZE && (x | 0) === x ? LOG_TABLE[x]! : Math.log(x);
}
