/**
 * Where a sample's recomputed tensors (elementwise.ts's and copySteps.ts's steps) and the tensors they
 * read lie in the kernels' memory (kernelMemory.ts), laid out before any is computed: the memory grows
 * once, and a grow never detaches a view taken earlier.
 *
 * Two layouts:
 *  - every tensor alive at once (each in its own region): the caller reads them all after the steps;
 *  - by liveness: a tensor the caller takes as soon as it is made (a fold bins it at once, while it is
 *    still in cache) is only kept until the last step that reads it, and its region then serves a later
 *    tensor. A read tensor is copied in just before its first reader. det: the 158 recomputed tensors'
 *    259 MiB a sample in ~30 MiB, touched once and reused, instead of 259 MiB of fresh memory whose first
 *    touch costs as much as the fold itself.
 * A step's output never shares memory with its inputs (regions are freed after the step that reads
 * them last). Regions are 16-byte aligned (the kernels load four float32 lanes at a time); freed
 * regions are merged with their free neighbours and taken first fit.
 */
import { sizeOf, type Float32Tensor } from './float32Tensor';

/** A tensor a step reads or makes: a name, or a constant of the plan. */
export type StepTensorKey = string | Float32Tensor;

/** The steps as the layout needs them: each one's output name and inputs. */
export interface LaidOutStep {
  readonly output: string;
  readonly inputs: readonly StepTensorKey[];
}

export interface StepLayout {
  /** Byte offset of every tensor in the memory: each step's output, and each input copied in. */
  readonly offsets: Map<StepTensorKey, number>;
  /** For each step, the inputs copied in just before it (their first reader). */
  readonly copiedBefore: readonly StepTensorKey[][];
  /** One past the last byte used. */
  readonly end: number;
}

const align16 = (bytes: number) => ((bytes + 15) >> 4) << 4;

/**
 * Lay out `steps` from byte `base` up. `outputShape` gives each step's output shape; `inputLength` the
 * element count of an input that no step makes (a given tensor or a constant). With `byLiveness`,
 * regions are reused once their tensor is read for the last time.
 */
export function layoutSteps(
  steps: readonly LaidOutStep[],
  outputShape: (name: string) => readonly number[],
  inputLength: (key: StepTensorKey) => number,
  base: number,
  byLiveness: boolean,
): StepLayout {
  const made = new Set(steps.map((s) => s.output));
  const lastRead = new Map<StepTensorKey, number>();
  steps.forEach((s, i) => {
    lastRead.set(s.output, Math.max(lastRead.get(s.output) ?? i, i));
    for (const k of s.inputs) lastRead.set(k, i);
  });
  const offsets = new Map<StepTensorKey, number>();
  const copiedBefore: StepTensorKey[][] = steps.map(() => []);
  const free: { at: number; bytes: number }[] = []; // sorted by offset, never adjacent
  const sizes = new Map<StepTensorKey, number>();
  let top = base;
  let end = base;
  const take = (key: StepTensorKey, elements: number) => {
    const bytes = align16(Math.max(1, elements) * 4); // an empty tensor too takes a region of its own

    sizes.set(key, bytes);
    const hole = byLiveness ? free.findIndex((f) => f.bytes >= bytes) : -1;
    if (hole >= 0) {
      const f = free[hole]!;
      offsets.set(key, f.at);
      if (f.bytes === bytes) free.splice(hole, 1);
      else free[hole] = { at: f.at + bytes, bytes: f.bytes - bytes };
      return;
    }
    offsets.set(key, top);
    top += bytes;
    end = Math.max(end, top);
  };
  const release = (key: StepTensorKey) => {
    let at = offsets.get(key)!;
    let bytes = sizes.get(key)!;
    let i = free.findIndex((f) => f.at > at);
    if (i < 0) i = free.length;
    const before = free[i - 1];
    if (before && before.at + before.bytes === at) {
      at = before.at;
      bytes += before.bytes;
      free.splice(--i, 1);
    }
    const after = free[i];
    if (after && at + bytes === after.at) {
      bytes += after.bytes;
      free.splice(i, 1);
    }
    if (at + bytes === top)
      top = at; // the free space at the top is the bump pointer's again
    else free.splice(i, 0, { at, bytes });
  };
  steps.forEach((s, i) => {
    for (const k of s.inputs) {
      if (offsets.has(k) || (typeof k === 'string' && made.has(k))) continue; // placed, or a step's output
      take(k, inputLength(k));
      copiedBefore[i]!.push(k);
    }
    take(s.output, sizeOf(outputShape(s.output)));
    if (!byLiveness) return;
    const done = new Set<StepTensorKey>([...s.inputs, s.output].filter((k) => lastRead.get(k) === i));
    for (const k of done) release(k);
  });
  return { offsets, copiedBefore, end };
}
