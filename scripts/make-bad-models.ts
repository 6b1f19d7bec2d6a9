/**
 * Writes the corpus of broken inputs under test/fixtures/bad-models/ (committed; rerun only to
 * add a case). Each file is pinned to its exact error in corpus.json.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import { encodeModel, makeNode } from '../src/onnx';
import { buildModel, floatTensor, tinyConvNet } from '../test/helpers/models';

const dir = join(import.meta.dirname, '..', 'test', 'fixtures', 'bad-models');
mkdirSync(dir, { recursive: true });
const write = (name: string, bytes: Uint8Array | string) => writeFileSync(join(dir, name), bytes);

const good = encodeModel(tinyConvNet());
write('empty.onnx', new Uint8Array(0));
write('text.onnx', 'This is a README, not a model.\n');
write('archive.onnx', Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0, ...Array(40).fill(0)));
write('truncated.onnx', good.subarray(0, Math.floor(good.length * 0.6)));
write(
  'random.onnx',
  Uint8Array.from({ length: 512 }, (_, i) => (i * 2654435761) >>> 24),
);

const external = tinyConvNet();
const w = external.graph!.initializer.find((t) => t.name === 'W')!;
w.rawData = new Uint8Array(0);
w.dataLocation = TensorProto_DataLocation.EXTERNAL;
w.externalData = [create(StringStringEntryProtoSchema, { key: 'location', value: 'weights.bin' })];
write('external-data.onnx', encodeModel(external));

const old = buildModel({
  inputs: [['X', [1, 4]]],
  outputs: [['Y', [1, 4]]],
  nodes: [makeNode('Relu', ['X'], ['Y'], 'relu')],
  opset: 7,
  ir: 3,
});
write('opset7.onnx', encodeModel(old));

const upsample = buildModel({
  inputs: [['X', [1, 1, 2, 2]]],
  outputs: [['Y', undefined]],
  inits: [floatTensor('scales', [4], (i) => (i < 2 ? 1 : 2))],
  nodes: [makeNode('Upsample', ['X', 'scales'], ['Y'], 'upsample0', { mode: 'nearest' })],
  opset: 9,
});
write('opset9-upsample.onnx', encodeModel(upsample));

const custom = buildModel({
  inputs: [['X', [1, 8]]],
  outputs: [['Y', [1, 8]]],
  inits: [floatTensor('W', [8, 8], (i) => Math.sin(i)), floatTensor('g', [8], () => 1), floatTensor('b', [8], () => 0)],
  nodes: [
    makeNode('MatMul', ['X', 'W'], ['h'], 'matmul0'),
    makeNode('LayerNormalization', ['h', 'g', 'b'], ['Y'], 'layernorm0', { axis: -1 }),
  ],
  opset: 17,
});
write('layernorm.onnx', encodeModel(custom));
console.log(`wrote the bad-model corpus to ${dir}`);
