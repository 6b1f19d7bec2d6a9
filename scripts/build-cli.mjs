// Builds the quantscope command ahead of time: src/cli bundled by esbuild into dist-cli/quantscope.mjs,
// which bin/quantscope.mjs runs (no TypeScript compiled at each start). npm runs this as `prepare`,
// so the file is there right after `npm install` / `npm ci`; `npm run build:cli` rebuilds it, and the
// test setup and the bench rebuild it before they run the command (the WASM kernels first:
// scripts/build-wasm.mjs). Packages stay external (imported from node_modules at run time:
// onnxruntime-node's native binding cannot be bundled).
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildWasm } from './build-wasm.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_BUNDLE = join(ROOT, 'dist-cli', 'quantscope.mjs');
/** The fold worker the command line starts beside its calibration (src/runtime/foldWorkerNode.ts). */
export const FOLD_WORKER_BUNDLE = join(ROOT, 'dist-cli', 'foldWorker.mjs');

/** One entry point bundled for Node 20 as an ES module, its packages left to node_modules. */
function bundleForNode(entry, outfile) {
  return build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}

export async function buildCli() {
  await buildWasm(); // the WASM kernels' modules, which the CLI bundles
  await bundleForNode(join(ROOT, 'src', 'cli', 'main.ts'), CLI_BUNDLE);
  await bundleForNode(join(ROOT, 'src', 'runtime', 'foldWorkerNodeEntry.ts'), FOLD_WORKER_BUNDLE);
  return CLI_BUNDLE;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await buildCli();
