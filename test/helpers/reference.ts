/** Loads the reference kit copied under test/fixtures/reference: the project's own copy. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHistogram, type HistogramState } from '../../src/core/histogram';
import { updateHistogram } from '../../src/core/histogramFold';
import { npyToFloat32, parseNpy } from '../../src/data/npy';
import { concat } from './arrays';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const REF = join(FIXTURES, 'reference');

export interface RefEntry {
  spec: Record<string, unknown> & { op: string };
  result: Record<string, unknown>;
}
export interface RefCase {
  description: string;
  kind: string;
  inputs: { path: string; shape: number[] }[];
  ort: Record<string, RefEntry>;
  torch: Record<string, RefEntry>;
}

let cached: { cases: Record<string, RefCase> } | undefined;
export function referenceCases(): Record<string, RefCase> {
  cached ??= JSON.parse(readFileSync(join(REF, 'expected.json'), 'utf8')) as { cases: Record<string, RefCase> };
  return cached.cases;
}

export function loadArray(path: string): { data: Float32Array; shape: number[] } {
  const arr = parseNpy(new Uint8Array(readFileSync(join(REF, path))), path);
  return { data: npyToFloat32(arr), shape: arr.shape };
}

/** The spec's data as a list of calls, each a list of batches. */
export function specCalls(spec: Record<string, unknown>): Float32Array[][] {
  if (typeof spec.data === 'string') return [[loadArray(spec.data).data]];
  if (Array.isArray(spec.batches)) return [(spec.batches as string[]).map((p) => loadArray(p).data)];
  if (Array.isArray(spec.calls)) return (spec.calls as string[][]).map((call) => call.map((p) => loadArray(p).data));
  throw new Error(`spec has no file data: ${JSON.stringify(spec)}`);
}

/** JSON's "NaN"/"Infinity" strings back to numbers. */
export function num(v: unknown): number {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return v as number;
}

export function flat(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [num(v)];
}

/** A value histogram built as onnxruntime builds it for a spec: one update per collect_data() call, its batches stacked. */
export function histogramFromSpec(spec: Record<string, unknown>, bins = 2048): HistogramState {
  let h = createHistogram(bins);
  for (const call of specCalls(spec)) {
    h = updateHistogram(h, concat(call));
  }
  return h;
}
