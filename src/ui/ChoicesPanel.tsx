import { useMemo } from 'react';
import type { ActivationConfig, Override } from '../core/config';
import type { ConfigEdit } from '../core/configEdits';
import type { IntDType } from '../core/dtype';
import { METHOD_VARIANTS, methodVariant, NO_VARIANT_FIELDS, variantFields, variantOf } from '../core/methods';
import { presetOf, PYTORCH_PRESETS, type PytorchPreset } from '../core/presets';
import { OpTypeAlgorithms, OpTypeBiasCorrection } from './AlgorithmOverrides';
import { OpTypeRounding } from './RoundingOptions';
import { ScrollBox } from './ScrollBox';
import { useApp, useAppStore } from './useApp';

const ACT_DTYPES: IntDType[] = ['int8', 'uint8', 'int16', 'uint16'];
const WEIGHT_DTYPES: IntDType[] = ['int8', 'uint8', 'int4', 'uint4'];
/** Op types whose weights GPTQ/AdaRound round and bias correction corrects. */
const ROUNDED_OPS = new Set(['MatMul', 'Gemm', 'Conv']);

/** Model-level and per-op-type choices. Changing one re-derives scales from the kept statistics. */
export function ChoicesPanel() {
  const model = useApp((s) => s.model);
  const config = useApp((s) => s.config);
  const store = useAppStore();
  // op types that are quantized, and those that produce a calibrated activation
  const { opTypes, producing } = useMemo(() => {
    if (!model) return { opTypes: [], producing: new Set<string>() };
    const acts = new Set(model.plan.activations);
    const producing = new Set(
      model.prepared.graph!.node.filter((n) => n.output.some((o) => acts.has(o))).map((n) => n.opType),
    );
    return { opTypes: [...new Set([...model.plan.nodes.map((n) => n.opType), ...producing])].sort(), producing };
  }, [model]);
  if (!model) return null;
  const edit = (e: ConfigEdit) => store.getState().editConfig(e);
  const setActs = (next: Partial<ActivationConfig>) => edit({ kind: 'activations', set: next });
  const acts = config.activations;
  const variant = variantOf(acts.method, acts);
  return (
    <section className="card" data-testid="choices-panel" id="step-choices">
      <h2>Choices</h2>
      <div className="row">
        <label title="PyTorch's get_default_qconfig(backend), exactly: HistogramObserver activations (uint8, reduce range but for qnnpack), symmetric int8 weights per channel (per tensor for qnnpack) with PyTorch's rules, and QDQ pairs where eager PyTorch observes. Calibrate after choosing it: PyTorch's observer keeps its own histogram.">
          Preset{' '}
          <select
            aria-label="Preset"
            value={presetOf(config) ?? 'custom'}
            onChange={(e) => {
              const p = e.target.value as PytorchPreset | 'custom';
              if (p !== 'custom') edit({ kind: 'preset', preset: p });
            }}
          >
            <option value="custom">custom</option>
            {PYTORCH_PRESETS.map((p) => (
              <option key={p} value={p}>
                PyTorch {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Activations{' '}
          <select
            aria-label="Activation dtype"
            value={acts.dtype}
            onChange={(e) => setActs({ dtype: e.target.value as IntDType })}
          >
            {ACT_DTYPES.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            aria-label="Symmetric activations"
            checked={acts.symmetric}
            onChange={(e) => setActs({ symmetric: e.target.checked })}
          />{' '}
          symmetric
        </label>
        <label>
          Range{' '}
          <select
            aria-label="Range method"
            value={variant.id}
            onChange={(e) => setActs(variantFields(methodVariant(e.target.value)!))}
          >
            {METHOD_VARIANTS.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        {acts.method === 'percentile' && (
          <label>
            keep{' '}
            <input
              aria-label="Percentile"
              className="num"
              type="number"
              step="0.001"
              min={50}
              max={100}
              value={acts.percentile ?? 99.999}
              onChange={(e) => setActs({ percentile: Math.min(100, Math.max(50, Number(e.target.value))) })}
            />
            %
          </label>
        )}
        <label title="onnxruntime: symmetric int8 on [-127, 127], tiny scales become 1. PyTorch: the full [-128, 127], symmetric uint8 zero point 128, scales at least 2^-23.">
          Rules{' '}
          <select
            aria-label="Convention"
            value={acts.convention ?? 'onnxruntime'}
            onChange={(e) => {
              edit({ kind: 'convention', convention: e.target.value as 'onnxruntime' | 'pytorch' });
            }}
          >
            <option value="onnxruntime">onnxruntime</option>
            <option value="pytorch">PyTorch</option>
          </select>
        </label>
        <label title="Half the integer range (onnxruntime int8 [-64, 64], PyTorch [-64, 63]): for CPUs whose int8 dot products would overflow 16-bit accumulators.">
          <input
            type="checkbox"
            aria-label="Reduce range"
            checked={acts.reduceRange === true}
            onChange={(e) => setActs({ reduceRange: e.target.checked })}
          />{' '}
          reduce range
        </label>
        <label title="16- and 4-bit types and block-wise scales need QuantizeLinear/DequantizeLinear-21: the export raises the opset to 21">
          Weights{' '}
          <select
            aria-label="Weight dtype"
            value={config.weights.dtype}
            onChange={(e) => edit({ kind: 'weights', set: { dtype: e.target.value as IntDType } })}
          >
            {WEIGHT_DTYPES.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>{' '}
          <select
            aria-label="Model weight granularity"
            value={
              config.weights.blockSize
                ? `block${config.weights.blockSize}`
                : config.weights.perChannel
                  ? 'channel'
                  : 'tensor'
            }
            onChange={(e) => {
              const v = e.target.value;
              edit({
                kind: 'weights',
                set: { perChannel: v !== 'tensor', blockSize: v.startsWith('block') ? Number(v.slice(5)) : null },
              });
            }}
          >
            <option value="channel">per channel</option>
            <option value="tensor">per tensor</option>
            <option value="block32">per block of 32 (MatMul, Gemm)</option>
            <option value="block64">per block of 64 (MatMul, Gemm)</option>
            <option value="block128">per block of 128 (MatMul, Gemm)</option>
          </select>
        </label>
      </div>
      <p className="muted small" data-testid="method-note">
        {variant.note}
      </p>
      <ScrollBox label="Choices by op type">
        <table className="io small-table">
          <thead>
            <tr>
              <th>op type</th>
              <th>quantized nodes</th>
              <th>keep float</th>
              <th>weights</th>
              <th title="weight-only exports: MatMul, Gemm and Conv weights">rounding</th>
              <th>bias correction</th>
              <th title="equalization: the Conv/Gemm pairs these nodes start; SmoothQuant: MatMul/Gemm inputs">
                equalize · SmoothQuant
              </th>
              <th>output range method</th>
            </tr>
          </thead>
          <tbody>
            {opTypes.map((op) => {
              const o = config.opTypes?.[op] ?? {};
              const count = model.plan.nodes.filter((n) => n.opType === op).length;
              const put = (next: Override) => edit({ kind: 'op-type', opType: op, set: next });
              const hasWeights = model.plan.nodes.some((n) => n.opType === op && n.weight);
              const opMethod = o.activations?.method ? variantOf(o.activations.method, o.activations).id : 'default';
              return (
                <tr key={op} data-testid={`optype-${op}`}>
                  <td>{op}</td>
                  <td>{count}</td>
                  <td>
                    {count > 0 ? (
                      <input
                        type="checkbox"
                        aria-label={`Keep ${op} float`}
                        checked={o.exclude === true}
                        onChange={(e) => put({ exclude: e.target.checked })}
                      />
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>
                    {hasWeights ? (
                      <select
                        aria-label={`${op} weight granularity`}
                        value={
                          o.weights?.perChannel === undefined ? 'default' : o.weights.perChannel ? 'channel' : 'tensor'
                        }
                        onChange={(e) =>
                          put({
                            weights: {
                              perChannel: e.target.value === 'default' ? undefined : e.target.value === 'channel',
                            },
                          })
                        }
                      >
                        <option value="default">model default</option>
                        <option value="channel">per channel</option>
                        <option value="tensor">per tensor</option>
                      </select>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>
                    {ROUNDED_OPS.has(op) && hasWeights ? (
                      <OpTypeRounding opType={op} />
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>
                    {ROUNDED_OPS.has(op) && hasWeights ? (
                      <OpTypeBiasCorrection opType={op} />
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>{hasWeights ? <OpTypeAlgorithms opType={op} /> : <span className="muted">—</span>}</td>
                  <td>
                    {producing.has(op) ? (
                      <select
                        aria-label={`${op} range method`}
                        value={opMethod}
                        onChange={(e) =>
                          put({
                            activations:
                              e.target.value === 'default'
                                ? NO_VARIANT_FIELDS
                                : variantFields(methodVariant(e.target.value)!),
                          })
                        }
                      >
                        <option value="default">model default</option>
                        {METHOD_VARIANTS.map((m) => (
                          <option key={m.id} value={m.id}>
                            {m.label}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollBox>
    </section>
  );
}
