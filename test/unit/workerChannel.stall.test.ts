/**
 * The export check's stall bound (runtime/workerChannel.ts): a check of a file with external data runs in
 * a worker of its own; one that does not answer within checkStallMs is failed with CHECK_STALLED and its
 * worker terminated, and the next check gets a fresh worker. The Worker here is a stand-in that records
 * what it is sent and answers only when told: the real check worker's park (every thread on a futex) is
 * what it stands for, and no real worker can be made to park on demand.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QuantscopeError } from '../../src/core/errors';

class ScriptedWorker extends EventTarget {
  static made: ScriptedWorker[] = [];
  readonly sent: { type: string; id: number }[] = [];
  terminated = false;
  constructor(
    readonly url: URL,
    readonly options: { name?: string },
  ) {
    super();
    ScriptedWorker.made.push(this);
  }
  postMessage(m: { type: string; id: number }): void {
    this.sent.push(m);
  }
  terminate(): void {
    this.terminated = true;
  }
  answer(data: unknown): void {
    this.dispatchEvent(Object.assign(new Event('message'), { data }));
  }
}

const GB = 1e9;
/** A data file of a given size that holds nothing (the channel reads only its size). */
class SizedBlob extends Blob {
  constructor(private readonly sizeInBytes: number) {
    super([]);
  }
  override get size(): number {
    return this.sizeInBytes;
  }
}
function checkRequest(dataBytes: number) {
  return {
    models: [
      {
        key: 'export',
        bytes: new Blob([new Uint8Array(1000)]),
        sample: null,
        externalData: [{ path: 'model_q4.onnx_data', data: new SizedBlob(dataBytes) }],
      },
    ],
    backend: 'wasm' as const,
    noFallback: false,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.resetModules();
  ScriptedWorker.made = [];
  vi.stubGlobal('Worker', ScriptedWorker);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('the export check of a file with external data', () => {
  it('is bounded at a minute plus a minute a GB of its files', async () => {
    const { checkStallMs } = await import('../../src/runtime/workerChannel');
    const req = { type: 'probe', id: 1, ...checkRequest(2 * GB) } as const;
    expect(checkStallMs(req)).toBeCloseTo(60_000 + 60_000 * ((2 * GB + 1000) / GB), 3);
  });

  it('a worker that never answers fails CHECK_STALLED, is terminated, and the next check starts a fresh worker', async () => {
    const { startProbe } = await import('../../src/runtime/client');
    const { checkStallMs } = await import('../../src/runtime/workerChannel');
    const bound = checkStallMs({ type: 'probe', id: 0, ...checkRequest(GB) });
    const first = startProbe(checkRequest(GB));
    const settled = first.result.then(
      () => 'answered',
      (e: { code?: string; message: string }) => e,
    );
    const w1 = ScriptedWorker.made.find((w) => w.options.name === 'quantscope-export-check')!;
    expect(w1.sent.map((m) => m.type)).toEqual(['probe']);
    // short of the bound: still waiting
    await vi.advanceTimersByTimeAsync(bound - 10);
    expect(w1.terminated).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    const e = (await settled) as { code?: string; message: string };
    expect(e.code).toBe('CHECK_STALLED');
    expect(e.message).toMatch(/did not answer in 120 s/);
    expect(w1.terminated).toBe(true);

    const second = startProbe(checkRequest(GB));
    const w2 = ScriptedWorker.made.filter((w) => w.options.name === 'quantscope-export-check')[1]!;
    expect(w2).toBeDefined();
    expect(w2).not.toBe(w1);
    w2.answer({ type: 'probed', id: second.id, backend: 'wasm', results: { export: { runs: true } } });
    await vi.advanceTimersByTimeAsync(1);
    await expect(second.result).resolves.toEqual({ backend: 'wasm', results: { export: { runs: true } } });
    // its answer ended it, and its stall timer with it: nothing fails later
    expect(w2.terminated).toBe(true);
    await vi.advanceTimersByTimeAsync(600_000);
  });

  it('an answer in time clears the timer: the worker is ended once, with no stall after', async () => {
    const { startProbe } = await import('../../src/runtime/client');
    const p = startProbe(checkRequest(0));
    const w = ScriptedWorker.made.find((x) => x.options.name === 'quantscope-export-check')!;
    await vi.advanceTimersByTimeAsync(59_000);
    w.answer({ type: 'probed', id: p.id, backend: 'wasm', results: { export: { runs: true } } });
    await vi.advanceTimersByTimeAsync(1);
    await expect(p.result).resolves.toMatchObject({ results: { export: { runs: true } } });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("the page's export check (state/exportChecks.ts checkLoads)", () => {
  async function check(answers: (() => Promise<unknown>)[]) {
    const { checkLoads, STALL_RETRY_DELAY_MS } = await import('../../src/state/exportChecks');
    let calls = 0;
    const calibrator = { probe: () => ({ id: ++calls, result: answers[calls - 1]!() }) };
    const state = { model: { summary: { inputs: [] } }, backend: 'wasm' };
    const file = {
      blob: new Blob([]),
      dataFile: { name: 'model_q4.onnx_data', blob: new Blob([]) },
      report: { form: 'q4' },
    };
    let outcome: unknown = 'pending';
    const run = checkLoads(calibrator as never, state as never, file as never);
    run.then(
      (v) => (outcome = v),
      (e: unknown) => (outcome = e),
    );
    return { run, calls: () => calls, outcome: () => outcome, delay: STALL_RETRY_DELAY_MS };
  }
  const stalled = () =>
    Promise.reject(new QuantscopeError('CHECK_STALLED', 'the export check worker failed: it did not answer in 86 s'));
  const runs = () => Promise.resolve({ backend: 'wasm', results: { export: { runs: true } } });

  it("runs once more after a stall, once the ended worker's memory had time to go back; the file is offered", async () => {
    const c = await check([stalled, runs]);
    await vi.advanceTimersByTimeAsync(c.delay - 10);
    expect(c.calls()).toBe(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(c.calls()).toBe(2);
    expect(c.outcome()).toBeNull();
  });

  it('two stalls in a row stop the export with the coded error, naming the file', async () => {
    const c = await check([stalled, stalled, runs]);
    await vi.advanceTimersByTimeAsync(c.delay + 10);
    expect(c.outcome()).toMatchObject({
      code: 'CHECK_STALLED',
      message: expect.stringMatching(/the q4 file with model_q4\.onnx_data loads in onnxruntime stopped/),
    });
    expect(c.calls()).toBe(2);
  });

  it('another failure is not run again', async () => {
    const failed = () =>
      Promise.reject(new QuantscopeError('WORKER_FAILED', 'the export check worker failed: crashed'));
    const c = await check([failed, runs]);
    await vi.advanceTimersByTimeAsync(c.delay + 10);
    expect(c.outcome()).toMatchObject({ code: 'WORKER_FAILED' });
    expect(c.calls()).toBe(1);
  });
});
