/**
 * Equalization, SmoothQuant and bias correction in the page: the model-level choices, per op type (the
 * Choices table) and per node (the Weights tab) like any other choice (core/algorithms/choices.ts: an
 * equalized pair belongs to its first node), run by the worker at export (runtime/algorithmsJob.ts, the
 * command line's engine), and after an export what each did: the pairs equalized and those skipped with
 * the reason, the inputs smoothed and where 1/s went, the biases corrected.
 */
import type { ExportForm, WeightConfig } from '../core/config';
import type { ExportResult } from '../state/types';
import { useApp, useAppStore } from './useApp';

/** SmoothQuant's default alpha (core/algorithms/choices.ts SMOOTHQUANT_DEFAULT_ALPHA; the paper's and the CLI's). */
const DEFAULT_ALPHA = 0.5;

/** Op types whose nodes start an equalized pair, and those whose input SmoothQuant smooths. */
export const EQUALIZED_OPS = new Set(['Conv', 'Gemm']);
export const SMOOTHED_OPS = new Set(['MatMul', 'Gemm']);

/**
 * A choice that is on, off, or left to the level above (undefined: the model's choice for a node, the
 * model default for an op type): the one select of the Choices table and the Weights tab for bias
 * correction, equalization and SmoothQuant.
 */
function OnOffSelect({
  label,
  title,
  value,
  inherit,
  onChange,
}: {
  label: string;
  title?: string;
  value: boolean | undefined;
  /** What 'default' is called: where the choice comes from when it is not set here. */
  inherit: string;
  onChange: (value: boolean | undefined) => void;
}) {
  return (
    <select
      aria-label={label}
      title={title}
      value={value === undefined ? 'default' : value ? 'on' : 'off'}
      onChange={(e) => onChange(e.target.value === 'default' ? undefined : e.target.value === 'on')}
    >
      <option value="default">{inherit}</option>
      <option value="on">on</option>
      <option value="off">off</option>
    </select>
  );
}
const NODE_INHERIT = "model's choice";

/**
 * SmoothQuant's alpha, in [0, 1] (other values are not taken). With `inherited` (the model's alpha, shown
 * as the placeholder), an empty field takes it (undefined); without, emptying it changes nothing.
 */
function AlphaInput({
  label,
  value,
  inherited,
  onChange,
}: {
  label: string;
  value: number | undefined;
  inherited?: number;
  onChange: (alpha: number | undefined) => void;
}) {
  return (
    <label>
      alpha{' '}
      <input
        type="number"
        aria-label={label}
        min={0}
        max={1}
        step={0.05}
        placeholder={inherited === undefined ? undefined : String(inherited)}
        value={value ?? ''}
        onChange={(e) => {
          const raw = e.target.value;
          const alpha = Number(raw);
          if (raw === '') {
            if (inherited !== undefined) onChange(undefined);
          } else if (alpha >= 0 && alpha <= 1) onChange(alpha);
        }}
      />
    </label>
  );
}
const OP_TYPE_INHERIT = 'model default';

export function ModelAlgorithmsChoice({ form }: { form: ExportForm }) {
  const appStore = useAppStore();
  const algorithms = useApp((s) => s.config.algorithms);
  const bias = useApp((s) => s.config.weights.biasCorrection ?? false);
  if (form.kind !== 'qdq' && !(form.kind === 'weight-only' && form.format === 'dq')) return null;
  const setAlgorithms = (next: NonNullable<typeof algorithms>) =>
    appStore.getState().setConfig((c) => ({ ...c, algorithms: next }));
  const smooth = algorithms?.smoothquant;
  return (
    <div className="row small" data-testid="model-algorithms">
      <label title="Cross-layer equalization: Conv/Gemm pairs joined by Relu, PRelu, LeakyRelu or nothing get even per-channel weight ranges; the float model is unchanged">
        <input
          type="checkbox"
          aria-label="Equalize"
          checked={algorithms?.equalize ?? false}
          onChange={(e) => {
            const { equalize: _dropped, ...rest } = algorithms ?? {};
            void _dropped;
            setAlgorithms(e.target.checked ? { ...rest, equalize: true } : rest);
          }}
        />{' '}
        equalize
      </label>
      <label title="SmoothQuant: activation outlier channels before MatMul/Gemm moved into their weights (needs data)">
        <input
          type="checkbox"
          aria-label="SmoothQuant"
          checked={smooth !== undefined}
          onChange={(e) => {
            const { smoothquant: _dropped, ...rest } = algorithms ?? {};
            void _dropped;
            setAlgorithms(e.target.checked ? { ...rest, smoothquant: {} } : rest);
          }}
        />{' '}
        SmoothQuant
      </label>
      {smooth !== undefined && (
        <AlphaInput
          label="SmoothQuant alpha"
          value={smooth.alpha ?? DEFAULT_ALPHA}
          onChange={(alpha) => alpha !== undefined && setAlgorithms({ ...algorithms, smoothquant: { alpha } })}
        />
      )}
      <label title="Bias correction: the mean output shift each quantized weight causes on your samples, subtracted from its bias (needs data)">
        <input
          type="checkbox"
          aria-label="Bias correction"
          checked={bias}
          onChange={(e) =>
            appStore.getState().setConfig((c) => {
              const { biasCorrection: _dropped, ...rest } = c.weights;
              void _dropped;
              return { ...c, weights: e.target.checked ? { ...rest, biasCorrection: true } : rest };
            })
          }
        />{' '}
        bias correction
      </label>
    </div>
  );
}

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

export function ModelAlgorithmsReport({ exported }: { exported: ExportResult }) {
  const r = exported.algorithms;
  if (!r) return null;
  return (
    <details data-testid="algorithms-report">
      <summary>
        {[
          r.equalization && `${r.equalization.pairs.length} pairs equalized (${r.equalization.skipped.length} skipped)`,
          r.smoothquant && `${r.smoothquant.length} inputs smoothed`,
          r.biasCorrection && `${r.biasCorrection.length} biases corrected`,
        ]
          .filter(Boolean)
          .join('; ')}
      </summary>
      <ul className="log small">
        {r.equalization?.pairs.map((p) => (
          <li key={`eq-${p.first}`}>
            equalized {p.first} → {p.via || 'directly'} → {p.second} (channel ranges up to {p.maxRatioBefore.toFixed(1)}
            × apart before)
          </li>
        ))}
        {r.equalization?.skipped.map((p) => (
          <li key={`skip-${p.first}`} data-testid="equalize-skipped">
            skipped {p.first} → {p.second}: {p.reason}
          </li>
        ))}
        {r.smoothquant?.map((s) => (
          <li key={`sq-${s.input}`}>
            smoothed {s.input} → {s.nodes.join(', ')} (outliers {s.outlierRatio.toFixed(1)}× the median channel), 1/s
            folded into {s.foldedInto}
          </li>
        ))}
        {r.biasCorrection?.map((b) => (
          <li key={`bc-${b.node}`}>
            bias of {b.node} corrected (largest mean shift {b.maxShift.toExponential(2)})
          </li>
        ))}
        {r.biasSkipped?.map((b) => (
          <li key={`bcs-${b.node}`}>
            bias of {b.node} left alone: {b.reason}
          </li>
        ))}
      </ul>
    </details>
  );
}
