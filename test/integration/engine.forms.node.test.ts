/**
 * One engine: for every export form, the page's path (the store, calibrating through the same
 * request/reply protocol as the worker, then exportModel) and the command line (quantscope quantize
 * --format) write the same bytes from the same model and data, and hold the same configuration.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { defaultForm, FORM_KINDS, type FormKind } from '../../src/core/exportForms';
import { parseRecipe } from '../../src/core/recipe';
import { encodeModel } from '../../src/onnx';
import { type AppStore } from '../../src/state/store';
import { tinyConvNet, tinyTransformer } from '../helpers/models';
import { makeNpy } from '../helpers/npy';
import { withUnsupportedOp } from '../helpers/tfliteModels';
import { calibratedRanges } from '../../src/core/calibratedRanges';
import { buildTfliteFile, runTfliteExportJob } from '../../src/runtime/tfliteExportJob';
import type { WorkerReply } from '../../src/runtime/protocol';
import { nodePageStore } from '../helpers/store';

const CLI_FORMAT: Record<FormKind, string> = {
  qdq: 'qdq',
  dq: 'weight-only',
  matmulnbits: 'matmulnbits',
  dynamic: 'dynamic',
  float16: 'fp16',
  bfloat16: 'bf16',
  q4f16: 'q4f16',
  'tflite-int8': 'tflite',
  'tflite-float16': 'tflite-float16',
  'tflite-float32': 'tflite-float32',
};

const dir = mkdtempSync(join(tmpdir(), 'quantscope-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A model on disk with .npy data, and a store (the page's engine) calibrated on the same files. */
interface Fixture {
  readonly modelPath: string;
  readonly dataFiles: string[];
  store: AppStore;
}

function fixture(name: string, model: Uint8Array, sample: (k: number) => Uint8Array): Fixture {
  const modelPath = join(dir, name);
  writeFileSync(modelPath, model);
  const dataFiles = [0, 1, 2].map((k) => {
    const path = join(dir, `${name}-${k}.npy`);
    writeFileSync(path, sample(k));
    return path;
  });
  const f: Fixture = { modelPath, dataFiles, store: null as unknown as AppStore };
  beforeAll(async () => {
    f.store = nodePageStore();
    f.store.getState().loadModel(name, model);
    await f.store
      .getState()
      .loadDataFiles(dataFiles.map((p) => ({ name: p.split('/').pop()!, bytes: new Uint8Array(readFileSync(p)) })));
    f.store.getState().setBackend('cpu');
    await f.store.getState().calibrate();
    expect(f.store.getState().calibration.status).toBe('done');
  }, 120_000);
  return f;
}

// a transformer for the ONNX forms; a small CNN for TFLite (whose writer takes convolutional graphs)
const transformer = fixture('transformer.onnx', encodeModel(tinyTransformer({ layers: 1 })), (k) =>
  makeNpy(
    '<i8',
    [1, 16],
    BigInt64Array.from({ length: 16 }, (_, i) => BigInt((i * 37 + k * 101) % 512)),
  ),
);
const cnn = fixture('cnn.onnx', encodeModel(tinyConvNet()), (k) =>
  makeNpy(
    '<f4',
    [1, 3, 8, 8],
    Float32Array.from({ length: 192 }, (_, i) => Math.sin(i * 0.37 + k) * (k + 1)),
  ),
);

describe('the page and the command line write the same bytes', () => {
  it('covers every form', () => expect(FORM_KINDS.length).toBe(10));
  it.each(FORM_KINDS)('%s', async (kind) => {
    const { store, modelPath, dataFiles } = kind.startsWith('tflite') ? cnn : transformer;
    store.getState().setConfig((c) => ({ ...c, form: defaultForm(kind) }));
    const page = (await store.getState().exportModel())!;
    expect(store.getState().exportError).toBeNull();
    const out = join(dir, `${kind}.out`);
    const recipe = join(dir, `${kind}.recipe.json`);
    const code = await main([
      'quantize',
      modelPath,
      '--format',
      CLI_FORMAT[kind],
      ...(kind === 'qdq' || kind === 'tflite-int8' ? ['--data', ...dataFiles] : []),
      '-o',
      out,
      '--write-recipe',
      recipe,
    ]);
    expect(code).toBe(0);
    const cli = new Uint8Array(readFileSync(out));
    expect(cli.length).toBe(page.size);
    expect(sha(cli)).toBe(sha(page.bytes));
    // the same choices, field for field (the recipe holds the configuration the file was built from)
    expect(parseRecipe(readFileSync(recipe, 'utf8'), recipe).config).toEqual(JSON.parse(JSON.stringify(page.config)));
  });
});

describe("the model worker's TFLite job (the page's TFLite export)", () => {
  it('writes the bytes the in-thread build writes, from its own preparation of the files', async () => {
    const { store, modelPath } = cnn;
    const model = store.getState().model!;
    const ranges = new Map(
      [...calibratedRanges(store.getState().calibration.stats!)].map(([t, r]) => [
        t,
        r && { rmin: Math.fround(r.rmin), rmax: Math.fround(r.rmax) },
      ]),
    );
    const options = { precision: 'int8' as const, inputShapes: { x: [1, 3, 8, 8] } };
    const int8 = { config: store.getState().config, ranges };
    const replies: WorkerReply[] = [];
    await runTfliteExportJob(
      {
        type: 'tfliteExport',
        id: 1,
        files: [{ name: 'cnn.onnx', blob: new Blob([readFileSync(modelPath)]) }],
        isSample: false,
        fixedInputs: {},
        options,
        int8,
        description: 'd',
      },
      new AbortController().signal,
      (m) => replies.push(m),
    );
    const reply = replies[0]!;
    expect(reply.type).toBe('tfliteExported');
    const inThread = buildTfliteFile(model.prepared, options, int8, 'd');
    if (reply.type === 'tfliteExported') {
      expect(sha(reply.file.bytes)).toBe(sha(inThread.bytes));
      expect(reply.file.report.ops.map((o) => o.op)).toContain('CONV_2D');
    }
    // a model the writer refuses is an error reply, in words
    const refused: WorkerReply[] = [];
    await runTfliteExportJob(
      {
        type: 'tfliteExport',
        id: 2,
        files: [{ name: 'erf.onnx', blob: new Blob([encodeModel(withUnsupportedOp()) as Uint8Array<ArrayBuffer>]) }],
        isSample: false,
        fixedInputs: {},
        options: { precision: 'float32' },
        description: 'd',
      },
      new AbortController().signal,
      (m) => refused.push(m),
    );
    expect(refused[0]).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/node "the_erf" \(Erf\)/) },
    });
  });
});
