/**
 * Float32 output arrays recycled from run to run of a calibration.
 *
 * onnxruntime-web copies every CPU output out of its wasm heap into a typed array it makes for it
 * (onnxruntime-web 1.30 lib/wasm/wasm-core-impl.ts, `run`: `const data = new typedArrayConstructor(size)`),
 * so a calibration run fetching det's 79 tensors makes 121 MiB of new arrays a sample. In Chromium a
 * large ArrayBuffer is mapped afresh for each allocation, and each of its pages faults when first written:
 * in the page's calibration worker (this machine, 2 cores), writing 64 MiB into a new array took 200-390
 * ms, into one written before 5-7 ms, and det's calibration runs took ~470 ms a sample against 96 ms for
 * plain inference; ~190 ms with the arrays recycled.
 *
 * The app's onnxruntime-web asks OUTPUT_ARRAY_HOOK for each output array before it makes one (the build
 * rewrites that one expression: scripts/ortOutputArrayHook.ts). A calibration opens a pool there and
 * gives back each sample's arrays once their statistics are folded; the next run's outputs of the same
 * type and length are written into them. onnxruntime writes every byte of an array it is given, so
 * nothing of the earlier sample remains. Where nothing asks the hook (onnxruntime-node, the module
 * unpatched) the pool only stays empty.
 */

/** The global the patched onnxruntime-web reads: `(constructor, length) => array | undefined`. */
export const OUTPUT_ARRAY_HOOK = '__quantscopeOutputArray';

type Hook = (ctor: unknown, length: number) => Float32Array | undefined;
type HookHost = { [OUTPUT_ARRAY_HOOK]?: Hook };

export interface OutputArrayPool {
  /** Arrays whose sample is folded: later outputs of their length are written into them. */
  give(arrays: Iterable<Float32Array>): void;
  /** Outputs written into a given-back array so far. */
  readonly reused: number;
  /** Stop lending (the hook is what it was before); the arrays kept are dropped. */
  close(): void;
}

/**
 * Lend given-back float32 arrays to onnxruntime-web's outputs until `close`. An array is lent once
 * until it is given back again; only arrays that own their whole buffer are kept (a view into a larger
 * buffer would hand out memory something else reads). Of each length the pool keeps at most as many as
 * were ever out at once (asked for and not yet given back): never more memory than the runs already
 * held. Nothing is kept of a length the runtime never asked for (it never asks in Node, whose runtimes
 * copy outputs their own way): those arrays are left to the garbage collector as before.
 */
export function openOutputArrayPool(): OutputArrayPool {
  const host = globalThis as HookHost;
  const before = host[OUTPUT_ARRAY_HOOK];
  const free = new Map<number, Float32Array[]>();
  // per length: arrays out now (asked for, not given back), and the most ever out at once
  const out = new Map<number, number>();
  const peak = new Map<number, number>();
  let reused = 0;
  let open = true;
  const hook: Hook = (ctor, length) => {
    if (ctor !== Float32Array) return before?.(ctor, length);
    const now = (out.get(length) ?? 0) + 1;
    out.set(length, now);
    if (now > (peak.get(length) ?? 0)) peak.set(length, now);
    const a = free.get(length)?.pop();
    if (!a) return before?.(ctor, length);
    reused++;
    return a;
  };
  host[OUTPUT_ARRAY_HOOK] = hook;
  return {
    give(arrays) {
      if (!open) return;
      for (const a of arrays) {
        const n = out.get(a.length);
        if (!n) continue; // never asked for (or every one given back already)
        let list = free.get(a.length);
        if (!list) free.set(a.length, (list = []));
        if (list.includes(a)) continue; // given back already: not out twice
        out.set(a.length, n - 1);
        const whole = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
        if (whole && list.length < peak.get(a.length)!) list.push(a);
      }
    },
    get reused() {
      return reused;
    },
    close() {
      open = false;
      free.clear();
      if (host[OUTPUT_ARRAY_HOOK] === hook) host[OUTPUT_ARRAY_HOOK] = before;
    },
  };
}

/** A run's float32 output arrays (what a job gives back once it is done with a sample's outputs). */
export function floatOutputArrays(results: Readonly<Record<string, unknown>>): Float32Array[] {
  const out: Float32Array[] = [];
  for (const v of Object.values(results)) {
    const data = (v as { data?: unknown } | undefined)?.data;
    if (data instanceof Float32Array) out.push(data);
  }
  return out;
}
