/**
 * The fold worker in Node (the command line, the bench, tests): a worker_threads Worker running the
 * built entry (dist-cli/foldWorker.mjs, from foldWorkerNodeEntry.ts by scripts/build-cli.mjs). Where
 * the file is missing the spawn throws and calibrate folds in its own thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { toErrorInfo, type ErrorInfo } from '../core/errors';
import type { FoldReply, SpawnFoldWorker } from './foldWorker';

export function nodeFoldWorker(entry: string | URL): SpawnFoldWorker {
  return () => {
    const path = typeof entry === 'string' ? entry : fileURLToPath(entry);
    if (!existsSync(path)) throw new Error(`${path} is missing (npm run build:cli builds it)`);
    const worker = new Worker(path);
    let ended = false;
    // the worker starts while the first sample runs: a failure before anyone listens is kept for them
    let onReply: ((r: FoldReply) => void) | null = null;
    let onFail: ((e: ErrorInfo) => void) | null = null;
    const early: ErrorInfo[] = [];
    const failed = (e: ErrorInfo) => (onFail ? onFail(e) : early.push(e));
    worker.on('message', (r: FoldReply) => onReply?.(r));
    worker.on('error', (e) => failed(toErrorInfo(e)));
    worker.on('exit', (code) => {
      if (!ended) failed({ code: 'RUNTIME', message: `it exited (${code})` });
    });
    return {
      post: (m, transfer) => worker.postMessage(m, transfer),
      listen(reply, fail) {
        onReply = reply;
        onFail = fail;
        for (const e of early.splice(0)) fail(e);
      },
      terminate() {
        ended = true;
        void worker.terminate();
      },
    };
  };
}
