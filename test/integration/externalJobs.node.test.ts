/**
 * The debugger on a model that keeps its weights in an external data file (issue 15): the static QDQ
 * file built from the lazy float model keeps the weights it leaves float as the same external
 * references (only quantized weights inline), both sessions read the data file themselves, and the
 * figures are those of the same model in one file. Node's sessions (runtime/nodeModelSession, what
 * `quantscope debug` opens); the page's worker path is e2e/externalData.spec.ts, which checks the page's
 * figures against `quantscope debug`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import type { SampleSpec } from '../../src/data/samples';
import { materializeSample } from '../../src/data/samples';
import {
  decodeModel,
  decodeModelWithExternalData,
  externalDataFiles,
  isExternal,
  planQuantization,
  prepareModel,
  withExtraOutputs,
  type ModelProto,
} from '../../src/onnx';
import { calibrate, type StatsMap } from '../../src/runtime/calibrate';
import { debugModels } from '../../src/runtime/debug';
import { staticQdqExport } from '../../src/runtime/debugJob';
import { fileSource } from '../../src/runtime/nodeFiles';
import { createNodeSessionForModel } from '../../src/runtime/nodeModelSession';
import { nodeOrt } from '../../src/runtime/ortNode';
import { createLocalCalibrator } from '../../src/runtime/localCalibrator';
import { createAppStore } from '../../src/state/store';
import { DECODER_TINY, decoderModel, writeGenerated } from '../helpers/bigModels';

let dir: string;
let external: ModelProto;
let single: ModelProto;
let stats: StatsMap;

const tokens = (k: number): SampleSpec => ({
  name: `ids${k}`,
  inputs: {
    input_ids: {
      kind: 'tensor',
      tensor: {
        type: 'int64',
        data: BigInt64Array.from({ length: 8 }, (_, i) => BigInt((i * 37 + k * 11 + 5) % DECODER_TINY.vocab)),
        dims: [1, 8],
      },
    },
  },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qs-extjobs-'));
  const extPath = (await writeGenerated(decoderModel(DECODER_TINY), dir, 'decoder.onnx', true)).path;
  const singlePath = (await writeGenerated(decoderModel(DECODER_TINY), dir, 'decoder-single.onnx', false)).path;
  const bytes = new Uint8Array(readFileSync(extPath));
  const files = externalDataFiles(decodeModel(bytes, 'decoder.onnx', undefined, 'keep')).map((f) =>
    fileSource(join(dir, f), f),
  );
  external = prepareModel(decodeModelWithExternalData(bytes, 'decoder.onnx', files).model).model;
  single = prepareModel(decodeModel(new Uint8Array(readFileSync(singlePath)), 'decoder-single.onnx')).model;
  const acts = planQuantization(single, DEFAULT_CONFIG).activations;
  const s = await createNodeSessionForModel(withExtraOutputs(single, acts));
  const calib = [0, 1, 2, 3].map(tokens);
  stats = await calibrate(nodeOrt, s, { count: 4, feeds: async (i) => materializeSample(calib[i]!) }, acts);
  await s.release();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('debugs the two-file model: its QDQ file keeps float weights external, the figures are the one-file model’s', async () => {
  const qExternal = staticQdqExport(external, DEFAULT_CONFIG, stats);
  const inits = qExternal.graph!.initializer;
  // the quantized weights are inline (int8); what stays float (the embedding a Gather reads) is still
  // a reference into decoder.onnx_data, never copied
  expect(inits.some((t) => isExternal(t))).toBe(true);
  expect(inits.some((t) => !isExternal(t) && t.dataType === 3 && t.rawData.length >= DECODER_TINY.dim ** 2)).toBe(true);
  const samples = [tokens(3)];
  const got = await debugModels(nodeOrt, external, qExternal, samples, { open: createNodeSessionForModel });
  const want = await debugModels(nodeOrt, single, staticQdqExport(single, DEFAULT_CONFIG, stats), samples);
  expect(got.tensors.filter((t) => t.kind === 'activation').length).toBeGreaterThan(3);
  expect(got.tensors.filter((t) => t.kind === 'weight').length).toBeGreaterThan(3);
  expect(got.tensors).toEqual(want.tensors);
  expect(got.firstDivergence).toBe(want.firstDivergence);
});

it('equalization and SmoothQuant on the two-file model are refused in words before they start (the worker would fail on them halfway)', async () => {
  const s = createAppStore(
    createLocalCalibrator(nodeOrt, {
      backend: 'cpu',
      numThreads: 1,
      crossOriginIsolated: false,
      hardwareConcurrency: 2,
    }),
  );
  s.getState().setBackend('cpu');
  const file = (name: string) => ({ name, blob: new Blob([readFileSync(join(dir, name))]) });
  expect(await s.getState().loadModelFiles([file('decoder.onnx'), file('decoder.onnx_data')])).toBe(true);
  const form = { kind: 'weight-only', format: 'dq', dtype: 'int8', symmetric: true, blockSize: null } as const;
  s.getState().setConfig({ form, algorithms: { smoothquant: {} } });
  expect(await s.getState().exportModel()).toBeNull();
  expect(s.getState().exportError).toMatchObject({
    code: 'EXTERNAL_DATA',
    message: expect.stringMatching(
      /decoder\.onnx keeps its weights in external data files: equalization and SmoothQuant cannot run/,
    ),
  });
});
