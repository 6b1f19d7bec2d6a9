/**
 * The kernels' memory layout for a sample's recomputed tensors (core/stepLayout.ts): on random step
 * graphs, every region 16-byte aligned and large enough, regions of tensors alive at the same time
 * disjoint (all of them without liveness), a step's output apart from its inputs, and the liveness
 * layout never larger; the checker itself fails a layout that overlaps. Then the fold's way of taking
 * the tensors (visitDerivedTensors): each step's tensor, as it is handed over, the bits deriveTensors
 * makes, in the kernel and in the JavaScript loops, each visited once.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { ElementwiseStep, Float32Tensor } from '../../src/core/elementwise';
import {
  deriveTensors,
  derivedKernelBytes,
  forceElementwiseKernel,
  visitDerivedTensors,
} from '../../src/core/elementwiseKernel';
import { layoutSteps, type LaidOutStep, type StepLayout, type StepTensorKey } from '../../src/core/stepLayout';
import { mulberry32 } from '../../src/core/random';

afterEach(() => forceElementwiseKernel(null));

const BASE = 4096;

/** A random graph: `given` inputs g0..g(k-1), then steps reading one or two earlier tensors. */
function randomSteps(seed: number, count: number, givenCount: number) {
  const r = mulberry32(seed);
  const names = Array.from({ length: givenCount }, (_, i) => `g${i}`);
  const size = () => (r() < 0.05 ? 0 : 1 + Math.floor(r() * 300)); // some empty
  const length = new Map<string, number>(names.map((n) => [n, size()]));
  const steps: LaidOutStep[] = [];
  for (let i = 0; i < count; i++) {
    const pick = () => names[Math.floor(r() * names.length)]!;
    const inputs = r() < 0.5 ? [pick()] : [pick(), pick()];
    const output = `s${i}`;
    length.set(output, size());
    steps.push({ output, inputs });
    names.push(output);
  }
  return { steps, length };
}

/** Each tensor's live steps: from its first use (made, or copied in) to its last read. */
function liveRanges(steps: readonly LaidOutStep[]): Map<StepTensorKey, [number, number]> {
  const live = new Map<StepTensorKey, [number, number]>();
  steps.forEach((s, i) => {
    for (const k of [...s.inputs, s.output]) {
      const was = live.get(k);
      live.set(k, was ? [was[0], i] : [i, i]);
    }
  });
  return live;
}

/** Every pair of tensors alive together (or all pairs) whose regions overlap. */
function overlaps(
  layout: StepLayout,
  steps: readonly LaidOutStep[],
  bytes: (k: StepTensorKey) => number,
  everyPair: boolean,
): string[] {
  const live = liveRanges(steps);
  const keys = [...layout.offsets.keys()];
  const bad: string[] = [];
  for (let a = 0; a < keys.length; a++)
    for (let b = a + 1; b < keys.length; b++) {
      const [ka, kb] = [keys[a]!, keys[b]!];
      const [la, lb] = [live.get(ka)!, live.get(kb)!];
      if (!everyPair && (la[1] < lb[0] || lb[1] < la[0])) continue; // never alive together
      const [oa, ob] = [layout.offsets.get(ka)!, layout.offsets.get(kb)!];
      if (oa < ob + bytes(kb) && ob < oa + bytes(ka)) bad.push(`${String(ka)}/${String(kb)}`);
    }
  return bad;
}

describe('step layout', () => {
  it('keeps tensors alive together apart, aligned and in bounds; liveness never takes more', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 4 }),
        (seed, count, givenCount) => {
          const { steps, length } = randomSteps(seed, count, givenCount);
          const bytes = (k: StepTensorKey) => 4 * Math.max(1, length.get(k as string)!);
          const laid = (byLiveness: boolean) =>
            layoutSteps(
              steps,
              (n) => [length.get(n)!],
              (k) => length.get(k as string)!,
              BASE,
              byLiveness,
            );
          const all = laid(false);
          const reused = laid(true);
          for (const layout of [all, reused]) {
            for (const [k, at] of layout.offsets) {
              expect(at % 16).toBe(0);
              expect(at).toBeGreaterThanOrEqual(BASE);
              expect(at + bytes(k)).toBeLessThanOrEqual(layout.end);
            }
            // every input no step makes is copied in once, before its first reader
            const copied = layout.copiedBefore.flat();
            expect(new Set(copied).size).toBe(copied.length);
            steps.forEach((s, i) => {
              for (const k of s.inputs)
                if (!steps.some((t) => t.output === k)) {
                  expect(layout.copiedBefore.findIndex((c) => c.includes(k))).toBeLessThanOrEqual(i);
                }
            });
          }
          expect(overlaps(all, steps, bytes, true)).toEqual([]);
          expect(overlaps(reused, steps, bytes, false)).toEqual([]);
          expect(reused.end).toBeLessThanOrEqual(all.end);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the overlap check catches a layout whose live regions overlap', () => {
    const steps: LaidOutStep[] = [
      { output: 'a', inputs: ['x'] },
      { output: 'b', inputs: ['a', 'x'] },
    ];
    const good = layoutSteps(
      steps,
      () => [8],
      () => 8,
      BASE,
      true,
    );
    expect(overlaps(good, steps, () => 32, false)).toEqual([]);
    const broken: StepLayout = { ...good, offsets: new Map([...good.offsets].map(([k]) => [k, BASE])) };
    expect(overlaps(broken, steps, () => 32, false).length).toBeGreaterThan(0);
  });

  it('reuses a chain’s regions: x -> a -> b -> c in two regions, four without liveness', () => {
    const steps: LaidOutStep[] = [
      { output: 'a', inputs: ['x'] },
      { output: 'b', inputs: ['a'] },
      { output: 'c', inputs: ['b'] },
    ];
    const at = (byLiveness: boolean) =>
      layoutSteps(
        steps,
        () => [10],
        () => 10,
        BASE,
        byLiveness,
      );
    expect(at(true).end - BASE).toBe(2 * 48); // 40 bytes, aligned to 48
    expect(at(false).end - BASE).toBe(4 * 48);
    expect(at(true).copiedBefore).toEqual([['x'], [], []]);
  });
});

describe('visitDerivedTensors', () => {
  const OPS = ['Add', 'Sub', 'Mul', 'Div', 'Relu', 'HardSigmoid'] as const;

  function randomElementwise(seed: number, count: number) {
    const r = mulberry32(seed);
    const dims = [2, 3, 1 + Math.floor(r() * 40)];
    const n = dims.reduce((p, d) => p * d, 1);
    const values = () => Float32Array.from({ length: n }, () => (r() - 0.5) * 8);
    const given: Record<string, Float32Tensor> = { x: { data: values(), dims }, y: { data: values(), dims } };
    const names = ['x', 'y'];
    const steps: ElementwiseStep[] = [];
    for (let i = 0; i < count; i++) {
      const op = OPS[Math.floor(r() * OPS.length)]!;
      const pick = () => names[Math.floor(r() * names.length)]!;
      const unary = op === 'Relu' || op === 'HardSigmoid';
      const scalar = { data: Float32Array.of(0.5 + r()), dims: [] };
      const inputs = unary ? [pick()] : [pick(), r() < 0.3 ? scalar : pick()];
      steps.push({ output: `t${i}`, op, inputs, attrs: op === 'HardSigmoid' ? { alpha: 0.2, beta: 0.5 } : {} });
      names.push(`t${i}`);
    }
    return { steps, given };
  }

  it('hands over each step’s tensor with the bits deriveTensors makes, once, kernel and JavaScript', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 25 }), (seed, count) => {
        const { steps, given } = randomElementwise(seed, count);
        for (const kind of [null, 'js'] as const) {
          forceElementwiseKernel(kind);
          const expected = Object.fromEntries(
            Object.entries(deriveTensors(steps, given)).map(([k, t]) => [k, Float32Array.from(t.data)]),
          );
          const seen = new Map<string, Float32Array>();
          visitDerivedTensors(steps, given, (name, t) => {
            expect(seen.has(name)).toBe(false);
            seen.set(name, Float32Array.from(t.data));
          });
          for (const s of steps) expect(seen.get(s.output)).toEqual(expected[s.output]);
          for (const g of ['x', 'y'])
            if (seen.has(g)) {
              expect(kind).toBeNull(); // the JavaScript loops hand over only what they make
              expect(seen.get(g)).toEqual(given[g]!.data);
            }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a long chain takes a few tensors’ memory, not one region a step', () => {
    const dims = [2, 3, 40];
    const steps: ElementwiseStep[] = [{ output: 't0', op: 'Relu', inputs: ['x'], attrs: {} }];
    for (let i = 1; i < 200; i++) steps.push({ output: `t${i}`, op: 'Mul', inputs: [`t${i - 1}`, 'y'], attrs: {} });
    const one = 4 * 240; // 16-byte aligned already
    // alive at once: x then y, the step's input and its output
    expect(derivedKernelBytes(steps, () => dims)).toBe(3 * one);
    const all = layoutSteps(
      steps,
      () => dims,
      () => 240,
      0,
      false,
    );
    expect(all.end).toBe(202 * one);
  });
});
