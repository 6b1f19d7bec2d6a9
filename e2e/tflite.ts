/**
 * Runs .tflite files in TFLite's own interpreter compiled to WebAssembly (@tensorflow/tfjs-tflite),
 * inside the page, from the files the app serves at /tflite/ (nothing is fetched from elsewhere).
 * Inputs and outputs cross as base64 of their raw little-endian bytes.
 */
import type { Page } from '@playwright/test';

export interface TfliteTensorOut {
  readonly dtype: string;
  readonly shape: number[];
  readonly data: Float32Array | Int8Array;
}

const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Loads tfjs-core, its CPU backend and tfjs-tflite from the app, once per page. */
export async function loadTflite(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const w = window as unknown as { tflite?: unknown };
    if (w.tflite) return;
    for (const f of ['tf-core.min.js', 'tf-backend-cpu.min.js', 'tf-tflite.min.js']) {
      await new Promise<void>((resolve, reject) => {
        const s = document.createElement('script');
        s.src = `/tflite/${f}`;
        s.onload = () => resolve();
        s.onerror = () => reject(new Error(`cannot load /tflite/${f}`));
        document.head.appendChild(s);
      });
    }
    (w.tflite as { setWasmPath: (p: string) => void }).setWasmPath('/tflite/');
  });
}

/** Runs one model on a batch of input sets; each input is a typed array in the file's layout. */
export async function runTflite(
  page: Page,
  model: Uint8Array,
  feeds: readonly (readonly (Float32Array | Int8Array)[])[],
): Promise<TfliteTensorOut[][]> {
  await loadTflite(page);
  const raw = await page.evaluate(
    async ({ model, feeds }) => {
      const dec = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      const enc = (a: ArrayBufferView) => {
        const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        let s = '';
        for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
        return btoa(s);
      };
      type Runner = {
        getInputs(): {
          dataType: string;
          shape: string;
          data(): ArrayBufferView & { set(a: ArrayLike<number>): void };
        }[];
        getOutputs(): { dataType: string; shape: string; data(): ArrayBufferView }[];
        infer(): boolean;
        cleanUp(): void;
      };
      const tflite = (window as unknown as { tflite: { loadTFLiteModel(b: ArrayBuffer, o?: object): Promise<object> } })
        .tflite;
      const bytes = dec(model);
      const m = await tflite.loadTFLiteModel(bytes.buffer, { numThreads: 1 });
      const runner = (m as { modelRunner: Runner }).modelRunner;
      const results = [];
      for (const feed of feeds) {
        const ins = runner.getInputs();
        feed.forEach((f, i) => {
          const d = ins[i]!.data();
          const src = dec(f.data);
          d.set(f.dtype === 'int8' ? new Int8Array(src.buffer) : new Float32Array(src.buffer));
        });
        if (!runner.infer()) throw new Error('TFLite infer() failed');
        results.push(runner.getOutputs().map((o) => ({ dtype: o.dataType, shape: o.shape, data: enc(o.data()) })));
      }
      runner.cleanUp();
      return results;
    },
    {
      model: b64(model),
      feeds: feeds.map((f) => f.map((a) => ({ dtype: a instanceof Int8Array ? 'int8' : 'float32', data: b64(a) }))),
    },
  );
  return raw.map((outs) =>
    outs.map((o) => {
      const buf = Buffer.from(o.data, 'base64');
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      return {
        dtype: o.dtype,
        shape: o.shape.split(',').map(Number),
        data: o.dtype === 'int8' ? new Int8Array(ab) : new Float32Array(ab),
      };
    }),
  );
}
