/**
 * The fold worker's back-pressure (runtime/foldWorker.ts): a run starts only while at most `queued`
 * samples wait in the worker; two where two samples' activations fit the memory to spare, one
 * otherwise, and the note says which. The worker here is serveFold itself, fed one message at a time
 * by the test (the same code the worker thread runs, stepped by hand so the waits can be observed).
 */
import { describe, expect, it } from 'vitest';
import {
  chooseFolder,
  serveFold,
  workerFolder,
  type FoldPort,
  type FoldReply,
  type FoldRequest,
} from '../../src/runtime/foldWorker';
import type { SampleFoldPlan } from '../../src/runtime/foldStats';

const plan: SampleFoldPlan = { tensors: ['t'], bins: 16, exact: false, torchHistograms: false };

/** serveFold behind a port whose messages are handled only when `step` is called. */
function steppedPort() {
  const inbox: FoldRequest[] = [];
  let onReply: (r: FoldReply) => void = () => undefined;
  const handle = serveFold((r) => onReply(r));
  const port: FoldPort = {
    post: (m) => inbox.push(m),
    listen: (reply) => (onReply = reply),
    terminate: () => undefined,
  };
  return { port, step: () => handle(inbox.shift()!), pending: () => inbox.length };
}

const sample = (v: number) => ({ t: Float32Array.of(v, -v, 2 * v) });

/** Whether a promise has settled once the microtasks queued so far have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe('fold worker back-pressure', () => {
  it.each([1, 2])('with %i queued, the next run waits until at most that many samples wait', async (queued) => {
    const { port, step } = steppedPort();
    const folder = workerFolder(port, plan, queued);
    step(); // init
    for (let k = 0; k < queued; k++) expect(await settled(folder.sample(0, sample(k + 1)))).toBe(true);
    const blocked = folder.sample(0, sample(9));
    expect(await settled(blocked)).toBe(false); // queued + 1 samples wait: no run starts
    step(); // the first one folded
    expect(await settled(blocked)).toBe(true);
    const finished = folder.finish();
    while (!(await settled(finished))) step();
    const stats = await finished;
    expect(stats.t!.minmax).toMatchObject({ min: -9, max: 18, count: 3 * (queued + 1) });
  });

  it('queues two samples where two fit the memory to spare, else one, and says so', () => {
    const notes: string[] = [];
    const bytes = 3 * 4; // one sample's activations
    for (const spareBytes of [2 * bytes, 2 * bytes - 1]) {
      const { port } = steppedPort();
      chooseFolder(plan, sample(1), 4, { spawn: () => port, spareBytes, cores: 2 }, (n) => notes.push(n));
    }
    expect(notes).toEqual([
      expect.stringMatching(/two at most waiting to be folded\)$/),
      expect.stringMatching(/one at most waiting to be folded\)$/),
    ]);
  });
});
