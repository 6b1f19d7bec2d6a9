export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function formatShape(shape: readonly (number | string)[] | null): string {
  return shape ? `[${shape.join(', ')}]` : 'unknown';
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toFixed(4).replace(/\.?0+$/, '') || '0';
}

/** A signal-to-noise figure in dB: "exact" when there is no error at all. */
export function formatDb(v: number): string {
  if (Number.isNaN(v)) return '—';
  if (v === Infinity) return 'exact';
  if (v === -Infinity) return '−∞';
  return v.toFixed(2);
}
