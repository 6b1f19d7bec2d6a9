/**
 * Silero VAD v5 calibration data as a user gives it to the command line: one onnx test-data directory
 * per 512-sample chunk (input_0.pb the audio [1, 512], input_1.pb the state [2, 1, 128] as zeros,
 * input_2.pb sr, 16000 unless told), from a signal made here: silence, then tones with noise, louder chunk by chunk.
 */
import { toBinary } from '@bufbuild/protobuf';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TensorProtoSchema } from 'onnx-buf';
import { bytesOf, makeTensor } from '../../src/onnx/proto';
import { DT } from '../../src/onnx/tensor';

export const SILERO_CHUNK = 512;

/** Chunk k of the test signal. */
export function sileroChunk(k: number): Float32Array {
  const quiet = k % 6 < 2;
  return Float32Array.from({ length: SILERO_CHUNK }, (_, i) => {
    const t = k * SILERO_CHUNK + i;
    const tone = quiet ? 0 : (0.3 * Math.sin(t * 0.07) + 0.1 * Math.sin(t * 0.31)) * (0.4 + 0.1 * (k % 5));
    return tone + 0.01 * Math.sin(t * t * 1e-4);
  });
}

const pb = (t: ReturnType<typeof makeTensor>) => toBinary(TensorProtoSchema, t);

/** Write `count` chunks as test_data_set_NN directories under `dir`. */
export function writeSileroData(dir: string, count: number, from = 0, sr = 16000n): void {
  for (let k = from; k < from + count; k++) {
    const d = join(dir, `test_data_set_${String(k).padStart(3, '0')}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'input_0.pb'), pb(makeTensor('input', DT.FLOAT, [1, SILERO_CHUNK], bytesOf(sileroChunk(k)))));
    writeFileSync(
      join(d, 'input_1.pb'),
      pb(makeTensor('state', DT.FLOAT, [2, 1, 128], bytesOf(new Float32Array(256)))),
    );
    writeFileSync(join(d, 'input_2.pb'), pb(makeTensor('sr', DT.INT64, [], bytesOf(BigInt64Array.of(sr)))));
  }
}
