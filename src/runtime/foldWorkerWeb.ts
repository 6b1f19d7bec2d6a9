/**
 * The fold worker in the page: a Web Worker nested in the calibration worker (Chromium and Firefox
 * start workers from workers; Vite bundles the entry from `new Worker(new URL(...))`). Where a
 * worker has no Worker (Safari before 15.5) the spawn throws and calibrate folds in its own thread.
 */
import { toErrorInfo, type ErrorInfo } from '../core/errors';
import type { FoldReply, SpawnFoldWorker } from './foldWorker';

export function webFoldWorker(): SpawnFoldWorker {
  return () => {
    if (typeof Worker === 'undefined') throw new Error('this browser starts no worker from a worker');
    const worker = new Worker(new URL('./foldWorkerWebEntry.ts', import.meta.url), {
      type: 'module',
      name: 'quantscope-fold',
    });
    // the worker starts while the first sample runs: a failure before anyone listens is kept for them
    let onFail: ((e: ErrorInfo) => void) | null = null;
    const early: ErrorInfo[] = [];
    const failed = (e: ErrorInfo) => (onFail ? onFail(e) : early.push(e));
    // a script that does not load, or an uncaught error in it
    worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      failed(toErrorInfo(e.message || 'the fold worker did not start'));
    });
    worker.addEventListener('messageerror', () => failed(toErrorInfo('a fold message could not be read')));
    return {
      post: (m, transfer) => worker.postMessage(m, transfer),
      listen(reply, fail) {
        worker.addEventListener('message', (e: MessageEvent<FoldReply>) => reply(e.data));
        onFail = fail;
        for (const e of early.splice(0)) fail(e);
      },
      terminate: () => worker.terminate(),
    };
  };
}
