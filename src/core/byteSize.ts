/**
 * Bytes in words at a scale that shows them, for messages the runtime writes (fold paths, calibration
 * passes): GiB for a large figure, MiB, or KiB for a small model's activations (never "0.0 MiB").
 */
export function byteSize(b: number): string {
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(2)} GiB`;
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  return `${(b / 1024).toFixed(1)} KiB`;
}
