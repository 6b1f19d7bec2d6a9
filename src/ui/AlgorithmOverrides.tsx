/**
 * Equalization, SmoothQuant and bias correction chosen per op type (the Choices table) and per node (the
 * Weights tab): overrides of the model's choice (ModelAlgorithms.tsx) like any other choice
 * (core/algorithms/choices.ts: an equalized pair belongs to its first node).
 */
import type { WeightConfig } from '../core/config';
import { AlphaInput, DEFAULT_ALPHA, NODE_INHERIT, OnOffSelect, OP_TYPE_INHERIT } from './AlgorithmInputs';
import { useApp, useAppStore } from './useApp';

/** Op types whose nodes start an equalized pair, and those whose input SmoothQuant smooths. */
export const EQUALIZED_OPS = new Set(['Conv', 'Gemm']);
export const SMOOTHED_OPS = new Set(['MatMul', 'Gemm']);

/** The Weights tab: this node's bias correction (an override like any other choice). */
export function NodeBiasCorrection({ node }: { node: string }) {
  const appStore = useAppStore();
  const own = useApp((s) => s.config.nodes?.[node]?.weights?.biasCorrection);
  return (
    <label className="small">
      bias correction{' '}
      <OnOffSelect
        label="Node bias correction"
        value={own}
        inherit={NODE_INHERIT}
        onChange={(on) =>
          appStore.getState().setConfig((c) => {
            const { biasCorrection: _dropped, ...rest } = c.nodes?.[node]?.weights ?? {};
            void _dropped;
            const weights = on === undefined ? rest : { ...rest, biasCorrection: on };
            return { ...c, nodes: { ...c.nodes, [node]: { ...c.nodes?.[node], weights } } };
          })
        }
      />
    </label>
  );
}

/** The Choices table's per-op-type bias correction (an op-type override of `weights.biasCorrection`). */
export function OpTypeBiasCorrection({ opType }: { opType: string }) {
  const store = useAppStore();
  const own = useApp((s) => s.config.opTypes?.[opType]?.weights?.biasCorrection);
  return (
    <OnOffSelect
      label={`Correct ${opType} biases`}
      title="Bias correction: the mean output shift the quantized weights cause on your samples, subtracted from the bias (needs data)"
      value={own}
      inherit={OP_TYPE_INHERIT}
      onChange={(on) =>
        store.getState().editConfig({ kind: 'op-type', opType, set: { weights: { biasCorrection: on } } })
      }
    />
  );
}

/**
 * The Weights tab: this node's equalization (the pair it starts: Conv/Gemm) and SmoothQuant of its input
 * with its own alpha (MatMul/Gemm), overrides like any other choice.
 */
export function NodeAlgorithms({ node, opType }: { node: string; opType: string }) {
  const store = useAppStore();
  const own = useApp((s) => s.config.nodes?.[node]?.weights);
  const modelAlpha = useApp((s) => s.config.algorithms?.smoothquant?.alpha ?? DEFAULT_ALPHA);
  const set = (weights: Partial<WeightConfig>) => store.getState().editConfig({ kind: 'node', node, weights });
  if (!EQUALIZED_OPS.has(opType) && !SMOOTHED_OPS.has(opType)) return null;
  return (
    <div className="row small" data-testid="node-algorithms">
      {EQUALIZED_OPS.has(opType) && (
        <label title="Cross-layer equalization of the pair this node starts (its output channels and the next layer's inputs)">
          pair equalization (the pair it starts){' '}
          <OnOffSelect
            label="Node equalization"
            value={own?.equalize}
            inherit={NODE_INHERIT}
            onChange={(on) => set({ equalize: on })}
          />
        </label>
      )}
      {SMOOTHED_OPS.has(opType) && (
        <>
          <label title="SmoothQuant: this node's input outlier channels moved into its weight (needs data)">
            input smoothing{' '}
            <OnOffSelect
              label="Node input smoothing"
              value={own?.smoothquant}
              inherit={NODE_INHERIT}
              onChange={(on) => set({ smoothquant: on })}
            />
          </label>
          <AlphaInput
            label="Node smoothing alpha"
            value={own?.smoothquantAlpha}
            inherited={modelAlpha}
            onChange={(alpha) => set({ smoothquantAlpha: alpha })}
          />
        </>
      )}
    </div>
  );
}

/**
 * The Choices table's per-op-type equalization (Conv/Gemm) and SmoothQuant (MatMul/Gemm). Labels here and
 * in NodeAlgorithms avoid the model-level "Equalize" and "SmoothQuant" (Playwright's getByLabel matches substrings).
 */
export function OpTypeAlgorithms({ opType }: { opType: string }) {
  const store = useAppStore();
  const own = useApp((s) => s.config.opTypes?.[opType]?.weights);
  const select = (key: 'equalize' | 'smoothquant', label: string, title: string) => (
    <OnOffSelect
      label={label}
      title={title}
      value={own?.[key]}
      inherit={OP_TYPE_INHERIT}
      onChange={(on) => store.getState().editConfig({ kind: 'op-type', opType, set: { weights: { [key]: on } } })}
    />
  );
  if (!EQUALIZED_OPS.has(opType) && !SMOOTHED_OPS.has(opType)) return <span className="muted">—</span>;
  return (
    <>
      {EQUALIZED_OPS.has(opType) &&
        select(
          'equalize',
          `${opType} pair equalization`,
          'Cross-layer equalization of the pairs these nodes start (joined by Relu, PRelu, LeakyRelu or nothing)',
        )}{' '}
      {SMOOTHED_OPS.has(opType) &&
        select('smoothquant', `${opType} input smoothing`, 'SmoothQuant of these nodes’ inputs (needs data)')}
    </>
  );
}
