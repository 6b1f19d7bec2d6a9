/**
 * Writes the corpus of broken calibration data under test/fixtures/bad-data/ (committed; rerun only
 * to add a case). Each file is pinned to its exact error in corpus.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { makeNpy } from '../test/helpers/npy';

const dir = join(import.meta.dirname, '..', 'test', 'fixtures', 'bad-data');
mkdirSync(dir, { recursive: true });
const write = (name: string, bytes: Uint8Array | string) => writeFileSync(join(dir, name), bytes);

const full = makeNpy('<f4', [1, 3, 8, 8], new Float32Array(192));
write('truncated.npy', full.subarray(0, full.length - 100));
write('fortran.npy', makeNpy('<f4', [1, 3, 8, 8], new Float32Array(192), { fortran: true }));
write('big-endian.npy', makeNpy('>f4', [1, 3, 8, 8], new Float32Array(192)));
write('complex.npy', makeNpy('<c8', [2], new Float32Array(4)));
write('not-really.npy', 'x,y\n1,2\n');
write('wrong-shape.npy', makeNpy('<f4', [1, 3, 4, 4], new Float32Array(48)));
write('wrong-dtype.npy', makeNpy('<i4', [1, 3, 8, 8], new Int32Array(192)));
write('corrupt.png', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8));
write('not-a-zip.npz', 'PK? no.');
write('no-arrays.npz', zipSync({ 'readme.txt': new TextEncoder().encode('nothing here') }));
write('garbage.pb', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2));
write('notes.txt', 'calibration notes');
console.log(`wrote the bad-data corpus to ${dir}`);
