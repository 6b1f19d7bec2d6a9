/**
 * The page's store as the tests drive it: the same slices and actions as the page, with the real runtime
 * (onnxruntime-node, on the CPU) behind the worker's request/reply protocol instead of a Web Worker.
 */
import { createLocalCalibrator } from '../../src/runtime/localCalibrator';
import { nodeOrt } from '../../src/runtime/ortNode';
import { createAppStore, type AppStore } from '../../src/state/store';

export function nodePageStore(): AppStore {
  const store = createAppStore(
    createLocalCalibrator(nodeOrt, {
      backend: 'cpu',
      numThreads: 1,
      crossOriginIsolated: false,
      hardwareConcurrency: 2,
    }),
  );
  store.getState().setBackend('cpu');
  return store;
}

/** Resolves when `cond` holds (polled on the event loop), or fails after `ms`: for state set by a job's later reply. */
export async function waitFor(cond: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
