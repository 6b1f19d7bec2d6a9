/**
 * The output array pool (runtime/outputArrayPool.ts) and the build step that lets onnxruntime-web ask it
 * (scripts/ortOutputArrayHook.ts): every minified ES build the app imports has its output copy rewritten
 * exactly once, a build whose copy reads otherwise fails by name, and the pool lends each given-back
 * array once, never more of a length than were out at once, nothing the runtime never asked for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hookOutputArrays } from '../../scripts/ortOutputArrayHook';
import { OUTPUT_ARRAY_HOOK, openOutputArrayPool } from '../../src/runtime/outputArrayPool';

const DIST = join(import.meta.dirname, '..', '..', 'node_modules', 'onnxruntime-web', 'dist');
type Host = { [OUTPUT_ARRAY_HOOK]?: (c: unknown, n: number) => Float32Array | undefined };
const host = globalThis as Host;
/** What the patched onnxruntime-web does for one output: ask the hook, else make the array. */
const output = (n: number) => host[OUTPUT_ARRAY_HOOK]?.(Float32Array, n) ?? new Float32Array(n);

afterEach(() => {
  delete host[OUTPUT_ARRAY_HOOK];
});

describe('onnxruntime-web output copy, rewritten at build time', () => {
  // the builds vite.config.ts resolves (the onnxruntime-web-use-extern-wasm condition), and Node's
  it.each(['ort.wasm.min.mjs', 'ort.webgpu.min.mjs', 'ort.jspi.min.mjs', 'ort.min.mjs', 'ort.node.min.mjs'])(
    '%s: its one output copy asks the hook first',
    (file) => {
      const code = readFileSync(join(DIST, file), 'utf8');
      const out = hookOutputArrays(code, file)!;
      expect(out).not.toBeNull();
      const calls = out.match(
        new RegExp(`globalThis\\.${OUTPUT_ARRAY_HOOK}\\?\\.\\((\\w+),(\\w+)\\)\\?\\?new \\1\\(\\2\\)`, 'g'),
      );
      expect(calls).toHaveLength(1);
      // nothing else moved: the rewrite is that one expression
      expect(out.replace(/\(globalThis\.__quantscopeOutputArray\?\.\(\w+,\w+\)\?\?(new \w+\(\w+\))\)/, '$1')).toBe(
        code,
      );
    },
  );

  it('leaves code without the output copy alone, and refuses a copy that reads otherwise, by file', () => {
    expect(hookOutputArrays('export const x = 1;', 'other.mjs')).toBeNull();
    const code = readFileSync(join(DIST, 'ort.wasm.min.mjs'), 'utf8');
    // a later onnxruntime-web that makes its array another way
    const changed = code.replace(/=new (\w+)\((\w+)\);new Uint8Array\(/, '=$1.from({length:$2});new Uint8Array(');
    expect(changed).not.toBe(code);
    expect(() => hookOutputArrays(changed, 'ort.wasm.min.mjs')).toThrow(
      /^ort\.wasm\.min\.mjs: onnxruntime-web's output copy no longer reads as scripts\/ortOutputArrayHook\.ts expects/,
    );
  });
});

describe('output array pool', () => {
  it('lends each given-back array once, to an output of its length', () => {
    const pool = openOutputArrayPool();
    const a = output(8);
    const b = output(8);
    const c = output(4);
    expect(pool.reused).toBe(0);
    pool.give([a, c]);
    expect(output(8)).toBe(a);
    expect(output(8)).not.toBe(a); // lent already: a new one
    expect(output(4)).toBe(c);
    expect(output(16)).toHaveLength(16);
    expect(pool.reused).toBe(2);
    pool.give([b, b]); // twice is once
    expect(output(8)).toBe(b);
    expect(output(8)).not.toBe(b);
    pool.close();
  });

  it('keeps no more of a length than were out at once, and nothing the runtime never asked for', () => {
    const pool = openOutputArrayPool();
    const first = [output(8), output(8)];
    pool.give(first);
    // never more than the two out at once: a third array of that length is not kept
    pool.give([new Float32Array(8)]);
    expect([output(8), output(8), output(8)].filter((x) => first.includes(x))).toHaveLength(2);
    // a length never asked for (onnxruntime-node's arrays, say) and a view into a larger buffer are not kept
    pool.give([new Float32Array(32)]);
    expect(output(32)).not.toBe(undefined);
    expect(pool.reused).toBe(2);
    const whole = new Float32Array(16);
    output(4);
    pool.give([whole.subarray(0, 4)]);
    expect(output(4).buffer).not.toBe(whole.buffer);
    pool.close();
  });

  it('closes back to the hook it found, keeping nothing', () => {
    const outer = openOutputArrayPool();
    const kept = output(8);
    outer.give([kept]);
    const inner = openOutputArrayPool();
    expect(output(8)).toBe(kept); // the inner pool has none: the outer one lends its own
    inner.close();
    expect(host[OUTPUT_ARRAY_HOOK]).toBeDefined();
    outer.close();
    expect(host[OUTPUT_ARRAY_HOOK]).toBeUndefined();
    outer.give([new Float32Array(8)]);
    expect(output(8)).not.toBe(kept);
  });
});
