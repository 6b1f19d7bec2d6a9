/**
 * npm run probe:support — fill src/onnx/forms/support.json: for every op and element type the export
 * forms write, a one-node model (with Casts around it for float16), run through the app's own worker
 * on each onnxruntime-web backend in Chromium, with CPU fallback disabled, so "runs" means the
 * backend ran the node itself. Needs a build (npm run build) and Chromium (CHROMIUM_PATH, default
 * /usr/bin/chromium). WebGPU and WebNN are probed only where the browser has them; the file says
 * which adapter answered (a software adapter proves correctness, not speed).
 */
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DT } from '../src/onnx/tensor';
import { floatProbes } from './supportProbes/floatProbes';
import { quantProbes } from './supportProbes/quantProbes';

const ROOT = join(import.meta.dirname, '..');
const PORT = 4179;

const probes = [...floatProbes(DT.FLOAT), ...floatProbes(DT.FLOAT16), ...quantProbes()];
const keys = new Set<string>();
for (const p of probes) {
  if (keys.has(p.key)) throw new Error(`two probes share the key ${p.key}`);
  keys.add(p.key);
}

const server = spawn(
  process.execPath,
  [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'preview', '--port', String(PORT), '--strictPort'],
  { cwd: ROOT, stdio: 'ignore' },
);
try {
  await new Promise((r) => setTimeout(r, 2500));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--enable-unsafe-webgpu',
      '--enable-features=WebMachineLearningNeuralNetwork',
    ],
  });
  const page = await browser.newPage();
  await page.goto(`http://localhost:${PORT}/`);
  const env = await page.evaluate(async () => {
    const gpu = (
      navigator as unknown as {
        gpu?: {
          requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null>;
        };
      }
    ).gpu;
    const adapter = gpu ? await gpu.requestAdapter() : null;
    return {
      ua: navigator.userAgent,
      gpu: adapter
        ? [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter(Boolean).join(' ') ||
          'unnamed adapter'
        : '',
      webnn: 'ml' in navigator,
    };
  });
  const table: Record<string, Record<'wasm' | 'webgpu' | 'webnn', boolean | null>> = {};
  for (const p of probes) table[p.key] = { wasm: null, webgpu: null, webnn: null };
  const backends: ('wasm' | 'webgpu' | 'webnn')[] = [
    'wasm',
    ...(env.gpu ? (['webgpu'] as const) : []),
    ...(env.webnn ? (['webnn'] as const) : []),
  ];
  const errors: Record<string, string> = {};
  const unavailableNotes: string[] = [];
  for (const backend of backends) {
    const models = probes.map((p) => ({ key: p.key, b64: Buffer.from(p.bytes).toString('base64'), dims: p.dims }));
    const results = (await page.evaluate(
      async ({ models, backend }) => {
        const probe = (
          window as unknown as {
            quantscopeProbe: (
              m: unknown[],
              b: string,
            ) => Promise<{ results: Record<string, { runs: boolean; error?: string }> }>;
          }
        ).quantscopeProbe;
        const list = models.map((m) => ({
          key: m.key,
          bytes: Uint8Array.from(atob(m.b64), (c) => c.charCodeAt(0)).buffer,
          sample: {
            name: m.key,
            inputs: {
              X: { kind: 'generated', gen: { type: 'float32', dims: m.dims, dist: 'uniform', a: -1, b: 1, seed: 1 } },
            },
          },
        }));
        return (await probe(list, backend)).results;
      },
      { models, backend },
    )) as Record<string, { runs: boolean; error?: string }>;
    // A backend the browser cannot create at all is "not probed" (null), not "does not run".
    const unavailable = Object.values(results).every(
      (r) => !r.runs && /not supported on this platform|no available backend/i.test(r.error ?? ''),
    );
    for (const [key, r] of Object.entries(results)) {
      table[key]![backend] = unavailable ? null : r.runs;
      if (!r.runs && r.error && !unavailable) errors[`${key} on ${backend}`] = r.error;
    }
    if (unavailable) unavailableNotes.push(`${backend}: ${Object.values(results)[0]?.error ?? 'unavailable'}`);
    console.log(`${backend}: ${Object.values(results).filter((r) => r.runs).length} of ${probes.length} run`);
  }
  await browser.close();
  const ortVersion = (
    JSON.parse(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const out = {
    onnxruntimeWeb: ortVersion,
    browser: env.ua,
    webgpuAdapter: env.gpu || 'none',
    webnn: !env.webnn
      ? 'not available in this browser: not probed'
      : (unavailableNotes.find((n) => n.startsWith('webnn')) ?? 'navigator.ml present'),
    probedAt: new Date().toISOString().slice(0, 10),
    table,
    errors,
  };
  writeFileSync(join(ROOT, 'src', 'onnx', 'forms', 'support.json'), `${JSON.stringify(out, null, 1)}\n`);
  console.log(`wrote src/onnx/forms/support.json (${probes.length} keys)`);
} finally {
  server.kill();
}
