/**
 * Components render against a store the test makes (AppStoreProvider), not only the page's singleton,
 * and the configuration edits the controls dispatch (store.editConfig) reach the exported file.
 * Rendering is React's own server renderer: the markup the components produce for that store's state. The
 * server renderer reads a zustand store through useSyncExternalStore's server snapshot, which is the store's
 * initial state, so each render gets a store whose initial state is the live store's state now.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/onnx';
import { appStore } from '../../src/state/appStore';
import { type AppState, type AppStore } from '../../src/state/store';
import { createStore } from 'zustand/vanilla';
import { ActionBar } from '../../src/ui/ActionBar';
import { ChoicesPanel } from '../../src/ui/ChoicesPanel';
import { ExportPanel } from '../../src/ui/ExportPanel';
import { NodeAlgorithms } from '../../src/ui/AlgorithmOverrides';
import { AppStoreProvider } from '../../src/ui/useApp';
import { encodeModel, tinyConvNet } from '../helpers/models';
import { nodePageStore } from '../helpers/store';

const newStore = () => {
  const store = nodePageStore();
  store.getState().loadModel('tiny-conv.onnx', encodeModel(tinyConvNet()));
  return store;
};

const render = (store: AppStore, node: React.ReactNode) => {
  const now: AppStore = createStore<AppState>()(() => store.getState());
  return renderToStaticMarkup(<AppStoreProvider store={now}>{node}</AppStoreProvider>);
};

/** The `<button>` whose text is `label`, as markup. */
const button = (html: string, label: string) => html.match(new RegExp(`<button[^>]*>${label}</button>`))?.[0];

describe('components against a test store', () => {
  it('show that store’s model and state, and the page’s own store is left alone', async () => {
    const store = newStore();
    // No data chosen yet: Calibrate is disabled and says why; nothing to export.
    let bar = render(store, <ActionBar />);
    expect(button(bar, 'Calibrate')).toMatch(/disabled=""/);
    expect(button(bar, 'Calibrate')).toMatch(/Choose calibration data first/);
    expect(button(bar, 'Export')).toMatch(/disabled=""/);

    store.getState().useGeneratedData(2);
    await store.getState().calibrate();
    bar = render(store, <ActionBar />);
    expect(button(bar, 'Calibrate')).not.toMatch(/disabled/);
    expect(button(bar, 'Export')).not.toMatch(/disabled/);
    expect(render(store, <ExportPanel />)).toContain('<option value="qdq" selected="">');
    store.getState().editConfig({ kind: 'form', form: { kind: 'float16', keepIoTypes: true } });
    expect(render(store, <ExportPanel />)).toContain('<option value="float16" selected="">');
    expect(render(appStore, <ExportPanel />)).toBe('');
    expect(appStore.getState().model).toBeNull();
    expect(render(appStore, <ActionBar />)).toBe(''); // the singleton has no model: the bar is not drawn
  });

  it('a configuration edit shows in the controls and reaches the exported file', async () => {
    const store = newStore();
    store.getState().useGeneratedData(2);
    await store.getState().calibrate();
    const tensor = store.getState().model!.plan.activations[1]!;
    store.getState().editConfig({ kind: 'weights', set: { dtype: 'uint8' } });
    store.getState().editConfig({ kind: 'tensor', tensor, activations: { dtype: 'int16' } });
    expect(render(store, <ChoicesPanel />)).toMatch(/<select aria-label="Weight dtype">.*?<option selected="">uint8</);

    // the weight rounding and bias correction chosen per op type, as the table's selects dispatch them
    store.getState().editConfig({ kind: 'op-type', opType: 'Conv', set: { weights: { algorithm: 'gptq' } } });
    store.getState().editConfig({ kind: 'op-type', opType: 'Conv', set: { weights: { biasCorrection: false } } });
    const choices = render(store, <ChoicesPanel />);
    expect(choices).toMatch(/<select aria-label="Rounding of Conv weights"[^>]*>.*?<option value="gptq" selected=""/);
    expect(choices).toMatch(/<select aria-label="Correct Conv biases"[^>]*>.*?<option value="off" selected=""/);
    expect(store.getState().config.opTypes?.Conv?.weights).toEqual({ algorithm: 'gptq', biasCorrection: false });
    // equalization per op type (the pairs Conv nodes start) and per node, as the selects dispatch them
    store.getState().editConfig({ kind: 'op-type', opType: 'Conv', set: { weights: { equalize: true } } });
    expect(render(store, <ChoicesPanel />)).toMatch(
      /<select aria-label="Conv pair equalization"[^>]*>.*?<option value="on" selected=""/,
    );
    const conv = store.getState().model!.plan.nodes.find((n) => n.opType === 'Conv')!.name;
    store.getState().editConfig({ kind: 'node', node: conv, weights: { equalize: false, smoothquantAlpha: 0.7 } });
    const nodeControls = render(store, <NodeAlgorithms node={conv} opType="Conv" />);
    expect(nodeControls).toMatch(/<select aria-label="Node equalization"[^>]*>.*?<option value="off" selected=""/);
    expect(nodeControls).not.toMatch(/Node input smoothing/); // a Conv's input is not SmoothQuant's
    expect(render(store, <NodeAlgorithms node={conv} opType="MatMul" />)).toMatch(
      /aria-label="Node smoothing alpha"[^>]*value="0.7"/,
    );
    store
      .getState()
      .editConfig({ kind: 'node', node: conv, weights: { equalize: undefined, smoothquantAlpha: undefined } });
    store.getState().editConfig({ kind: 'op-type', opType: 'Conv', set: { weights: { equalize: undefined } } });
    expect(store.getState().config.nodes?.[conv]?.weights ?? {}).toEqual({});
    store.getState().editConfig({ kind: 'op-type', opType: 'Conv', set: { weights: { algorithm: undefined } } });
    store.getState().editConfig({ kind: 'op-type', opType: 'Conv', set: { weights: { biasCorrection: undefined } } });

    const exported = (await store.getState().exportModel())!;
    const graph = decodeModel(exported.bytes, exported.fileName).graph!;
    const zeroPointType = (t: string) => {
      const q = graph.node.find((n) => n.opType === 'QuantizeLinear' && n.input[0] === t)!;
      return graph.initializer.find((i) => i.name === q.input[2])!.dataType;
    };
    expect(zeroPointType(tensor)).toBe(5); // INT16
    const other = store.getState().model!.plan.activations.find((t) => t !== tensor)!;
    // the model's int8, which an opset-21 file stores as uint8 with the zero point + 128 (onnx/activationStorage.ts)
    expect(zeroPointType(other)).toBe(2);
    const wq = graph.initializer.filter((i) => i.name.endsWith('_zero_point') && i.dims.length === 1);
    expect(wq.length).toBeGreaterThan(0);
    expect(wq.every((i) => i.dataType === 2)).toBe(true); // UINT8 weights (per-channel zero points)
  });
});
