/**
 * Real-size models (test/helpers/bigModels.ts, generated into a temporary folder and deleted):
 *
 *   big_<form>_<size>_mb_per_s        weight-only export from the command line (read, quantize, write
 *                                      streamed with external data), MB of float weights a second
 *   big_<form>_<size>_peak_rss_mb      the command's peak resident memory (target < 1024 at 2.5 GB)
 *   vit_load_parse_ms                  read + parse the 344 MB ViT-B/16-sized model (one file)
 *   vit_calibration_ms_per_sample      onnxruntime-node calibration of it (every tensor an output) per sample,
 *   vit_plain_inference_ms_per_sample  against plain inference of the same model
 *
 *   npx tsx bench/bigModels.ts     (or npm run bench -- big: a long section, left out of a plain run)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CONFIG } from '../src/core/config';
import {
  calibrationTensors,
  decodeModel,
  encodeModel,
  planQuantization,
  prepareModel,
  withExtraOutputs,
} from '../src/onnx';
import { calibrate } from '../src/runtime/calibrate';
import { toOrtFeeds } from '../src/runtime/ort';
import { createNodeSession, nodeOrt } from '../src/runtime/ortNode';
import { DECODER_2_5GB, decoderModel, VIT_B16, vitModel, writeGenerated } from '../test/helpers/bigModels';
import { ROOT } from '../test/helpers/sample';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;

const FORMS: readonly [string, string[]][] = [
  ['q4', ['--format', 'matmulnbits', '--block-size', '32']],
  ['int8', ['--format', 'weight-only']],
  ['fp16', ['--format', 'fp16', '--external-data']],
];

export async function benchBigModels(emit: Emit): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quantscope-bench-big-'));
  try {
    // BENCH_BIG_LAYERS=1,3: other decoder depths (12 is the 2.55 GB model; each layer is 201 MB)
    const depths = (process.env.BENCH_BIG_LAYERS ?? `3,${DECODER_2_5GB.layers}`).split(',').map(Number);
    for (const layers of depths) {
      const shape = { ...DECODER_2_5GB, layers };
      const w = await writeGenerated(decoderModel(shape), dir, 'decoder.onnx', true);
      const gb = (w.result.dataBytes / 1e9).toFixed(2);
      for (const [form, flags] of FORMS) {
        const out = join(dir, `${form}.onnx`);
        const rss = join(dir, 'rss');
        const t0 = performance.now();
        execFileSync(
          'node',
          [
            '--import',
            join(ROOT, 'bench', 'peak-rss.mjs'),
            join(ROOT, 'bin', 'quantscope.mjs'),
            'quantize',
            w.path,
            ...flags,
            '-o',
            out,
          ],
          { env: { ...process.env, QS_PEAK_RSS_FILE: rss }, stdio: 'ignore' },
        );
        const s = (performance.now() - t0) / 1000;
        const peak = Number(readFileSync(rss, 'utf8')) / 2 ** 20;
        const tags = {
          model_gb: Number(gb),
          output_mb: Math.round(
            (statSync(out).size + (statSync(`${out}_data`, { throwIfNoEntry: false })?.size ?? 0)) / 1e6,
          ),
        };
        emit(`big_${form}_${gb}gb_mb_per_s`, w.result.dataBytes / 1e6 / s, 'MB/s', tags);
        emit(`big_${form}_${gb}gb_peak_rss_mb`, peak, 'MiB', {
          ...tags,
          ...(layers === DECODER_2_5GB.layers ? { target: 1024 } : {}),
        });
        rmSync(out, { force: true });
        rmSync(`${out}_data`, { force: true });
      }
      rmSync(w.path, { force: true });
      rmSync(`${w.path}_data`, { force: true });
    }
    await benchVit(emit, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchVit(emit: Emit, dir: string): Promise<void> {
  const { path } = await writeGenerated(vitModel(VIT_B16), dir, 'vit.onnx', false);
  const t0 = performance.now();
  const bytes = new Uint8Array(readFileSync(path));
  const model = decodeModel(bytes, 'vit.onnx');
  emit('vit_load_parse_ms', performance.now() - t0, 'ms', { mb: Math.round(bytes.length / 1e6) });
  const prepared = prepareModel(model).model;
  const tensors = calibrationTensors(prepared, planQuantization(prepared, DEFAULT_CONFIG));
  const count = 4;
  const pixels = (i: number) =>
    Float32Array.from({ length: 3 * VIT_B16.image ** 2 }, (_, k) => Math.sin(k * 0.001 * (i + 1)) * 2);
  const source = {
    count,
    feeds: async (i: number) => ({ pixel_values: { data: pixels(i), dims: [1, 3, VIT_B16.image, VIT_B16.image] } }),
  };
  const plain = await createNodeSession(bytes);
  await plain.run(toOrtFeeds(nodeOrt, await source.feeds(0)) as never); // warm-up
  const p0 = performance.now();
  for (let i = 0; i < count; i++) await plain.run(toOrtFeeds(nodeOrt, await source.feeds(i)) as never);
  const plainMs = (performance.now() - p0) / count;
  await plain.release();
  const calib = await createNodeSession(encodeModel(withExtraOutputs(prepared, tensors)));
  const c0 = performance.now();
  await calibrate(nodeOrt, calib, source, tensors);
  const calibMs = (performance.now() - c0) / count;
  await calib.release();
  emit('vit_plain_inference_ms_per_sample', plainMs, 'ms');
  emit('vit_calibration_ms_per_sample', calibMs, 'ms', { tensors: tensors.length });
  emit('vit_calibration_over_inference', calibMs / plainMs, 'ratio');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchBigModels((name, value, unit, extra = {}) =>
    console.log(JSON.stringify({ name, value: Number(value.toFixed(4)), unit, ...extra })),
  );
}
