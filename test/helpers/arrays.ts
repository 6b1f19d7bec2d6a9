/** Typed arrays joined end to end (batches stacked, file parts put together). */
export function concat<T extends Float32Array | Uint8Array>(parts: readonly T[]): T {
  const first = parts[0];
  const out = (
    first instanceof Uint8Array
      ? new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
      : new Float32Array(parts.reduce((n, p) => n + p.length, 0))
  ) as T;
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
