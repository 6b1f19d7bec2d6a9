/**
 * Tune as the page runs it (the store over the worker's job, here on onnxruntime-node): the choice
 * meets the target and becomes the page's configuration, Export writes it, and the recipe the page
 * downloads reproduces the exported file byte for byte through `quantscope quantize --recipe`;
 * picking the first trial brings back the configuration tuning started from; a cancel ends the run.
 * The panel shows the written file's own numbers (run in onnxruntime on the held-out samples), not the
 * switchboard's.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { AppState, AppStore } from '../../src/state/store';
import { formatTuneValue } from '../../src/ui/TuneFormat';
import { TunePanel } from '../../src/ui/TunePanel';
import { AppStoreProvider } from '../../src/ui/useApp';
import { encodeModel, tinyConvNet } from '../helpers/models';
import { ROOT } from '../helpers/sample';
import { nodePageStore } from '../helpers/store';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'quantscope-store-tune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const newStore = () => {
  const store = nodePageStore();
  store.getState().loadModel('tiny-conv.onnx', encodeModel(tinyConvNet()));
  store.getState().useGeneratedData(12);
  return store;
};

describe('Tune in the page (store)', () => {
  it('meets the target, the choice lands in the config, and its recipe reproduces the export through the CLI', async () => {
    const store = newStore();
    await store.getState().calibrate();
    const start = store.getState().config;
    store.getState().setTuneTarget({ metric: 'sqnr', value: 60 });
    const phases: string[] = [];
    const unsub = store.subscribe((s) => {
      const p = s.tuning.progress.phase;
      if (s.tuning.status === 'running' && p && phases.at(-1) !== p) phases.push(p);
    });
    await store.getState().tune();
    unsub();
    const t = store.getState().tuning;
    expect(t.error).toBeNull();
    expect(t.status).toBe('done');
    expect(phases[0]).toBe('preparing');
    expect(phases.length).toBeGreaterThan(1);
    expect(t.heldOutSource).toMatch(/last 3 of the 12 calibration samples/);
    const r = t.summary!.result;
    expect(r.met).toBe(true);
    const chosen = r.trials[t.summary!.chosen]!;
    expect(t.summary!.refused).toEqual([]);
    expect(chosen.value).toBeGreaterThanOrEqual(60);
    expect(r.trials[0]!.value).toBeLessThan(60); // int8 everywhere misses 60 dB: something had to change
    expect(r.changes.length).toBeGreaterThan(0);
    expect(t.picked).toBe(chosen.id);
    expect(t.startConfig).toBe(start);
    // the choice is the page's configuration: overrides by tensor or node, or a model-wide move
    expect(store.getState().config).toEqual(chosen.config);
    expect(store.getState().config).not.toEqual(start);

    const exported = await store.getState().exportModel();
    expect(exported?.config).toEqual(chosen.config);
    // the written file's own numbers: Export's bytes, measured in onnxruntime on the 3 held-out samples
    const file = t.summary!.file!;
    expect(file.bytes).toBe(exported!.bytes.length);
    expect(file.metrics.samples).toBe(3);
    expect(file.value).toBe(file.metrics.sqnrDb);
    expect(file.meets).toBe(file.value >= 60);
    expect(file.value).toBeGreaterThanOrEqual(60);
    console.log(
      `store tune: file ${file.value.toFixed(2)} dB, switchboard ${chosen.value.toFixed(2)} dB, ${file.bytes} bytes (estimate ${chosen.bytes})`,
    );
    // latency of the files Tune built and ran (the start and the choice at least) and of the float model
    const lat = t.summary!.latency;
    expect(lat.backend).toBe('cpu');
    const measured = Object.keys(lat.byTrial).map(Number);
    expect(measured).toContain(0);
    expect(measured).toContain(chosen.id);
    expect(measured.length).toBeLessThan(r.trials.length); // only files that were built have one
    for (const v of [...Object.values(lat.byTrial), lat.floatMs!]) expect(v > 0 && v < 10_000).toBe(true);
    console.log(
      `store tune latency (ms): float ${lat.floatMs!.toFixed(3)}, ${measured.map((id) => `#${id} ${lat.byTrial[id]!.toFixed(3)}`).join(', ')}`,
    );
    const now: AppStore = createStore<AppState>()(() => store.getState());
    const panel = renderToStaticMarkup(
      <AppStoreProvider store={now}>
        <TunePanel />
      </AppStoreProvider>,
    ).replace(/<!-- -->/g, '');
    expect(panel).toContain('Measured on the written file in onnxruntime (3 held-out samples)');
    expect(panel).toContain(`<b data-testid="tune-after">${formatTuneValue('sqnr', file.value)}</b>`);
    expect(panel).toContain(`${(file.bytes / 1024).toFixed(1)} KiB`);
    // the switchboard's value is beside it only where it reads differently
    expect(panel.includes('tune-switchboard')).toBe(
      formatTuneValue('sqnr', file.value) !== formatTuneValue('sqnr', chosen.value),
    );
    const recipe = join(dir, 'tuned.recipe.json');
    writeFileSync(recipe, await store.getState().downloadRecipeText());
    const model = join(dir, 'tiny-conv.onnx');
    writeFileSync(model, encodeModel(tinyConvNet()));
    const out = join(dir, 'again.onnx');
    await run(
      process.execPath,
      [join(ROOT, 'bin', 'quantscope.mjs'), 'quantize', model, '--recipe', recipe, '-o', out],
      {
        cwd: ROOT,
        timeout: 120_000,
      },
    );
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(exported!.bytes))).toBe(true);

    // the first trial is where tuning started: picking it brings those choices back
    store.getState().pickTrial(0);
    expect(store.getState().config).toEqual(start);
    expect(store.getState().tuning.picked).toBe(0);
    expect(store.getState().exported).toBeNull();
  }, 120_000);

  it('refuses to tune static QDQ before calibration, and a cancel ends the run with nothing chosen', async () => {
    const store = newStore();
    await store.getState().tune();
    expect(store.getState().tuning.status).toBe('error');
    expect(store.getState().tuning.error?.code).toBe('NO_STATISTICS');

    await store.getState().calibrate();
    const before = store.getState().config;
    store.getState().setTuneTarget({ metric: 'sqnr', value: 200 }); // unreachable: it would try everything
    // cancelled once the worker's job has measured a configuration
    const unsub = store.subscribe((s) => {
      if (s.tuning.status === 'running' && s.tuning.progress.trials >= 1) s.cancelTune();
    });
    await store.getState().tune();
    unsub();
    expect(store.getState().tuning.status).toBe('cancelled');
    expect(store.getState().tuning.summary).toBeNull();
    expect(store.getState().config).toBe(before);
  }, 120_000);
});
