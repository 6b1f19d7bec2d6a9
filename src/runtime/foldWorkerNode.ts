/**
 * The fold worker in Node (the command line, the bench, tests): a worker_threads Worker running the
 * built entry (dist-cli/foldWorker.mjs, from foldWorkerNodeEntry.ts by scripts/build-cli.mjs). Where
 * the file is missing the spawn throws and calibrate folds in its own thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { toErrorInfo } from '../core/errors';
import type { FoldReply, SpawnFoldWorker } from './foldWorker';

export function nodeFoldWorker(entry: string | URL): SpawnFoldWorker {
  return () => {
    const path = typeof entry === 'string' ? entry : fileURLToPath(entry);
    if (!existsSync(path)) throw new Error(`${path} is missing (npm run build:cli builds it)`);
    const worker = new Worker(path);
    let ended = false;
    return {
      post: (m, transfer) => worker.postMessage(m, transfer),
      listen(reply, fail) {
        worker.on('message', (r: FoldReply) => reply(r));
        worker.on('error', (e) => fail(toErrorInfo(e)));
        worker.on('exit', (code) => {
          if (!ended) fail({ code: 'RUNTIME', message: `it exited (${code})` });
        });
      },
      terminate() {
        ended = true;
        void worker.terminate();
      },
    };
  };
}
