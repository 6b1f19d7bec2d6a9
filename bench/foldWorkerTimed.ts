/**
 * The bench's fold worker: the same serveFold as dist-cli/foldWorker.mjs (src/runtime/foldWorkerNodeEntry.ts),
 * each 'folded' reply carrying when the sample arrived and what its fold took (wall, and this thread's
 * CPU time from /proc/thread-self/schedstat where Linux has it). calibrate() reads only the reply's type;
 * bench/calibration-web.mjs reads the timing into the overlapped run's timeline.
 */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { serveFold, type FoldRequest } from '../src/runtime/foldWorker';

/** This thread's CPU time in ms (NaN where /proc has no per-thread schedstat). */
export function threadCpuMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

const port = parentPort!;
let timing = { receivedAt: 0, cpu0: 0 };
const handle = serveFold((r, transfer) => {
  const extra =
    r.type === 'folded'
      ? {
          timing: {
            receivedAt: timing.receivedAt,
            foldedAt: performance.timeOrigin + performance.now(),
            cpuMs: threadCpuMs() - timing.cpu0,
          },
        }
      : {};
  port.postMessage({ ...r, ...extra }, transfer ?? []);
});
port.on('message', (m: FoldRequest) => {
  timing = { receivedAt: performance.timeOrigin + performance.now(), cpu0: threadCpuMs() };
  handle(m);
});
