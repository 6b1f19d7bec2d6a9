/** The page's fold worker (nested in the calibration worker): foldWorker.ts' serveFold on its scope. */
import { serveFold, type FoldRequest } from './foldWorker';

interface FoldScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<FoldRequest>) => void): void;
}
const scope = self as unknown as FoldScope;
const handle = serveFold((r, transfer) => scope.postMessage(r, transfer ?? []));
scope.addEventListener('message', (e) => handle(e.data));
