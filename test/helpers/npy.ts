/** Writes .npy bytes as numpy's format.py does (for tests and fixtures). */
export function makeNpy(
  descr: string,
  shape: number[],
  payload: ArrayBufferView,
  opts: { version?: 1 | 2 | 3; fortran?: boolean } = {},
): Uint8Array {
  const version = opts.version ?? 1;
  const dict = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pre = version === 1 ? 10 : 12;
  let header = dict;
  while ((pre + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(pre + h.length + payload.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, h.length, true);
  else view.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength), pre + h.length);
  return out;
}
