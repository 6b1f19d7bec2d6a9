/**
 * One queue in front of every session create/run/release: no onnxruntime-web build accepts two
 * run() calls at once on WebGPU (they throw, or hang forever), so nothing overlaps, on any backend.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
