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

/** The next float32 above (dir 1) or below (dir -1) a float32 value, its bits stepped as an integer. */
export function nextF32(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * 1e-45;
  const u = new Int32Array(Float32Array.of(x).buffer);
  u[0]! += (x > 0 ? 1 : -1) * dir;
  return new Float32Array(u.buffer)[0]!;
}
