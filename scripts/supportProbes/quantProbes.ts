/** The quantized and integer ops the export forms write, for every quantized element type. */
import { bytesOf, makeNode, makeTensor } from '../../src/onnx';
import { DT } from '../../src/onnx/tensor';
import { dqProbe, f32, intProbe, ints, probe, type Probe } from './probeModel';

export function quantProbes(): Probe[] {
  const out: Probe[] = [];
  const types: [string, number, number[]][] = [
    ['int8', DT.INT8, [0]],
    ['uint8', DT.UINT8, [128]],
    ['int16', DT.INT16, [0]],
    ['uint16', DT.UINT16, [32768]],
    ['int4', DT.INT4, [0]],
    ['uint4', DT.UINT4, [8]],
  ];
  for (const [, t, zp] of types) {
    const wide = t === DT.INT16 || t === DT.UINT16 || t === DT.INT4 || t === DT.UINT4;
    const zpT =
      t === DT.INT4 || t === DT.UINT4 ? makeTensor('zp', t, [], Uint8Array.of(zp[0]! & 0xf)) : ints('zp', t, [], zp);
    out.push(
      probe([2, 16], makeNode('QuantizeLinear', ['x', 's', 'zp'], ['q'], 'op'), [f32('s', [], 0.05), zpT], {
        opset: wide ? 21 : 17,
        outType: t,
        then: makeNode('DequantizeLinear', ['q', 's', 'zp'], ['y'], 'dq'),
      }),
    );
    const qT =
      t === DT.INT4 || t === DT.UINT4
        ? makeTensor('q', t, [2, 16], new Uint8Array(16))
        : ints('q', t, [2, 16], [1, 2, 3]);
    out.push(
      dqProbe(
        makeNode('DequantizeLinear', ['q', 's', 'zp'], ['y'], 'op'),
        [qT, f32('s', [], 0.05), zpT],
        wide ? 21 : 17,
      ),
    );
  }
  // block-wise weights (DequantizeLinear-21 block_size)
  for (const t of [DT.INT4, DT.INT8, DT.UINT4, DT.UINT8]) {
    const narrow = t === DT.INT4 || t === DT.UINT4;
    const q = narrow ? makeTensor('q', t, [64, 8], new Uint8Array(256)) : ints('q', t, [64, 8], [1, 2, 3]);
    const signed = t === DT.INT4 || t === DT.INT8;
    const zp = signed
      ? []
      : [narrow ? makeTensor('z', t, [2, 8], new Uint8Array(8).fill(0x88)) : ints('z', t, [2, 8], [128])];
    out.push(
      dqProbe(
        makeNode('DequantizeLinear', ['q', 's', ...(signed ? [] : ['z'])], ['y'], 'op', { axis: 0, block_size: 32 }),
        [q, f32('s', [2, 8], 0.05), ...zp],
        21,
      ),
    );
  }
  out.push(
    dqProbe(
      makeNode('DequantizeLinear', ['q', 's'], ['y'], 'op'),
      [ints('q', DT.INT32, [8], [100, -200]), f32('s', [], 0.001)],
      17,
    ),
  );
  // dynamic
  out.push(probe([2, 16], makeNode('DynamicQuantizeLinear', ['x'], ['y', 's', 'z'], 'op'), [], { outType: DT.UINT8 }));
  for (const wt of [DT.INT8, DT.UINT8]) {
    out.push(
      intProbe(
        makeNode('MatMulInteger', ['xq', 'w', 'xz', 'wz'], ['acc'], 'op'),
        [ints('w', wt, [16, 8], [3, 1, 2]), ints('wz', wt, [], [wt === DT.UINT8 ? 128 : 0])],
        [2, 16],
      ),
    );
  }
  out.push(
    intProbe(
      makeNode('ConvInteger', ['xq', 'w', 'xz', 'wz'], ['acc'], 'op', { pads: [1, 1, 1, 1] }),
      [ints('w', DT.UINT8, [4, 4, 3, 3], [130, 120]), ints('wz', DT.UINT8, [], [128])],
      [1, 4, 8, 8],
    ),
  );
  // MatMulNBits (com.microsoft), 4 and 8 bits, float32 and float16 activations
  for (const [bits, at] of [
    [4, DT.FLOAT],
    [8, DT.FLOAT],
    [4, DT.FLOAT16],
  ] as const) {
    const k = 64;
    const n = 8;
    const blob = (32 * bits) / 8;
    const node = makeNode('MatMulNBits', ['x', 'b', 's'], ['y'], 'op', { K: k, N: n, bits, block_size: 32 });
    node.domain = 'com.microsoft';
    const s = makeTensor(
      's',
      at,
      [n * 2],
      at === DT.FLOAT ? bytesOf(new Float32Array(n * 2).fill(0.01)) : bytesOf(new Uint16Array(n * 2).fill(0x211e)),
    );
    out.push(
      probe([2, k], node, [makeTensor('b', DT.UINT8, [n, 2, blob], new Uint8Array(n * 2 * blob).fill(0x88)), s], {
        at,
        domains: ['com.microsoft'],
      }),
    );
  }
  // float formats' casts
  out.push(probe([2, 16], makeNode('Cast', ['x'], ['y'], 'op', { to: DT.FLOAT16 }), [], { outType: DT.FLOAT16 }));
  out.push(
    probe([2, 16], makeNode('Cast', ['x'], ['y'], 'op', { to: DT.FLOAT }), [], { at: DT.FLOAT16, outType: DT.FLOAT }),
  );
  out.push(
    probe([2, 16], makeNode('Cast', ['x'], ['y'], 'op', { to: DT.FLOAT }), [], { at: DT.BFLOAT16, outType: DT.FLOAT }),
  );
  out.push(
    probe([2, 16], makeNode('Cast', ['x'], ['y'], 'op', { to: DT.FLOAT }), [], { at: DT.INT32, outType: DT.FLOAT }),
  );
  return out;
}
