/** The float ops the export forms write, probed in float32 or (with Casts around them) float16. */
import { bytesOf, makeNode, makeTensor, type TensorProto } from '../../src/onnx';
import { DT } from '../../src/onnx/tensor';
import { f32, ints, probe, type Probe } from './probeModel';

export function floatProbes(at: number): Probe[] {
  const h = at === DT.FLOAT16;
  const cast = (t: TensorProto) =>
    (h
      ? {
          ...t,
          dataType: DT.FLOAT16,
          rawData: bytesOf(
            Uint16Array.from(
              new Float32Array(
                t.rawData.buffer.slice(t.rawData.byteOffset, t.rawData.byteOffset + t.rawData.byteLength),
              ),
              () => 0x2e66,
            ),
          ),
        }
      : t) as TensorProto;
  const o = { at };
  return [
    probe(
      [1, 4, 8, 8],
      makeNode('Conv', ['x', 'w', 'b'], ['y'], 'op', { pads: [1, 1, 1, 1] }),
      [cast(f32('w', [4, 4, 3, 3])), cast(f32('b', [4]))],
      o,
    ),
    probe([2, 16], makeNode('MatMul', ['x', 'w'], ['y'], 'op'), [cast(f32('w', [16, 8]))], o),
    probe(
      [2, 16],
      makeNode('Gemm', ['x', 'w', 'b'], ['y'], 'op', { transB: 1 }),
      [cast(f32('w', [8, 16])), cast(f32('b', [8]))],
      o,
    ),
    probe([2, 16], makeNode('Add', ['x', 'c'], ['y'], 'op'), [cast(f32('c', [16]))], o),
    probe([2, 16], makeNode('Mul', ['x', 'c'], ['y'], 'op'), [cast(f32('c', [16]))], o),
    probe([2, 16], makeNode('Relu', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Sigmoid', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Tanh', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Erf', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('HardSigmoid', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Softmax', ['x'], ['y'], 'op', { axis: -1 }), [], o),
    probe(
      [2, 16],
      makeNode('LayerNormalization', ['x', 'g', 'b'], ['y'], 'op', { axis: -1 }),
      [cast(f32('g', [16], 1)), cast(f32('b', [16]))],
      o,
    ),
    probe([2, 16], makeNode('Transpose', ['x'], ['y'], 'op', { perm: [1, 0] }), [], o),
    probe([2, 16], makeNode('Concat', ['x', 'x'], ['y'], 'op', { axis: 0 }), [], o),
    probe([1, 4, 8, 8], makeNode('GlobalAveragePool', ['x'], ['y'], 'op'), [], o),
    probe([1, 4, 8, 8], makeNode('MaxPool', ['x'], ['y'], 'op', { kernel_shape: [2, 2], strides: [2, 2] }), [], o),
    probe([1, 4, 8, 8], makeNode('AveragePool', ['x'], ['y'], 'op', { kernel_shape: [2, 2], strides: [2, 2] }), [], o),
    probe(
      [1, 4, 8, 8],
      makeNode('Resize', ['x', '', 'scales'], ['y'], 'op', { mode: 'nearest' }),
      [makeTensor('scales', DT.FLOAT, [4], bytesOf(Float32Array.of(1, 1, 2, 2)))],
      o,
    ),
    probe(
      [16],
      makeNode('Gather', ['table', 'idx'], ['y'], 'op'),
      [cast(f32('table', [16, 4])), ints('idx', DT.INT64, [3], [1, 5, 7])],
      o,
    ),
    probe([2, 16], makeNode('Sub', ['x', 'c'], ['y'], 'op'), [cast(f32('c', [16]))], o),
    probe([2, 16], makeNode('Div', ['x', 'c'], ['y'], 'op'), [cast(f32('c', [16], 2))], o),
    probe([2, 16], makeNode('Pow', ['x', 'e'], ['y'], 'op'), [cast(f32('e', [], 2))], o),
    probe([2, 16], makeNode('Sqrt', ['x'], ['y'], 'op'), [], o),
    probe(
      [2, 16],
      makeNode('Clip', ['x', 'lo', 'hi'], ['y'], 'op'),
      [cast(f32('lo', [], -0.5)), cast(f32('hi', [], 0.5))],
      o,
    ),
    probe([2, 16], makeNode('HardSwish', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Identity', ['x'], ['y'], 'op'), [], o),
    probe([2, 16], makeNode('Reshape', ['x', 'shape'], ['y'], 'op'), [ints('shape', DT.INT64, [2], [4, 8])], o),
    probe([2, 16], makeNode('Unsqueeze', ['x', 'axes'], ['y'], 'op'), [ints('axes', DT.INT64, [1], [0])], o),
    probe([1, 16], makeNode('Squeeze', ['x', 'axes'], ['y'], 'op'), [ints('axes', DT.INT64, [1], [0])], o),
    probe(
      [2, 16],
      makeNode('Slice', ['x', 'st', 'en'], ['y'], 'op'),
      [ints('st', DT.INT64, [1], [0]), ints('en', DT.INT64, [1], [1])],
      o,
    ),
    probe([1, 4, 8, 8], makeNode('Flatten', ['x'], ['y'], 'op', { axis: 1 }), [], o),
    probe([1, 4, 8, 8], makeNode('ReduceMean', ['x', 'axes'], ['y'], 'op'), [ints('axes', DT.INT64, [1], [1])], {
      ...o,
      opset: 18,
    }),
    probe(
      [1, 4, 8, 8],
      makeNode('Pad', ['x', 'pads'], ['y'], 'op'),
      [ints('pads', DT.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1])],
      o,
    ),
    probe(
      [1, 4, 8, 8],
      makeNode('ConvTranspose', ['x', 'w'], ['y'], 'op', { strides: [2, 2] }),
      [cast(f32('w', [4, 2, 2, 2]))],
      o,
    ),
  ];
}
