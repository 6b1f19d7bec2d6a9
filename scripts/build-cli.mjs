// Builds the quantscope command ahead of time: src/cli bundled by esbuild into dist-cli/quantscope.mjs,
// which bin/quantscope.mjs runs (no TypeScript compiled at each start). npm runs this as `prepare`,
// so the file is there right after `npm install` / `npm ci`; `npm run build:cli` rebuilds it, and the
// test setup and the bench rebuild it before they run the command (the WASM kernels first:
// scripts/build-wasm.mjs). Packages stay external (imported from node_modules at run time:
// onnxruntime-node's native binding cannot be bundled).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildWasm } from './build-wasm.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_BUNDLE = join(ROOT, 'dist-cli', 'quantscope.mjs');
/** The fold worker the command line starts beside its calibration (src/runtime/foldWorkerNode.ts). */
export const FOLD_WORKER_BUNDLE = join(ROOT, 'dist-cli', 'foldWorker.mjs');

const NODE_ESM = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
};

export async function buildCli() {
  await buildWasm(); // the WASM kernels' modules, which the CLI bundles
  // The command split at its commands' dynamic imports (src/cli/main.ts): each command's code, and
  // the packages it imports, load when that command runs. The chunks lie beside the entry and the fold
  // worker, so that a chunk's import.meta.url finds foldWorker.mjs where cli/calibration.ts looks for
  // it. An earlier build's files go first (chunk names carry a hash of their content: they would pile up).
  rmSync(dirname(CLI_BUNDLE), { recursive: true, force: true });
  await build({
    ...NODE_ESM,
    entryPoints: { quantscope: join(ROOT, 'src', 'cli', 'main.ts') },
    outdir: dirname(CLI_BUNDLE),
    splitting: true,
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
  });
  await build({
    ...NODE_ESM,
    entryPoints: [join(ROOT, 'src', 'runtime', 'foldWorkerNodeEntry.ts')],
    outfile: FOLD_WORKER_BUNDLE,
  });
  return CLI_BUNDLE;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await buildCli();
