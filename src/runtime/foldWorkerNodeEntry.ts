/** The Node fold worker's script (built to dist-cli/foldWorker.mjs): foldWorker.ts' serveFold on parentPort. */
import { parentPort } from 'node:worker_threads';
import { serveFold, type FoldRequest } from './foldWorker';

const port = parentPort!;
const handle = serveFold((r, transfer) => port.postMessage(r, transfer ?? []));
port.on('message', (m: FoldRequest) => handle(m));
