// TensorChoices: this tensor's method, dtype, symmetry and keep-float overrides.
import type { ActivationConfig, Override } from '../core/config';
import type { IntDType } from '../core/dtype';
import { METHOD_VARIANTS, methodVariant, NO_VARIANT_FIELDS, variantFields, type MethodVariant } from '../core/methods';

const ACT_DTYPES: IntDType[] = ['int8', 'uint8', 'int16', 'uint16'];

export function TensorChoices({
  override,
  variant,
  act,
  setOverride,
}: {
  override: Override | undefined;
  variant: MethodVariant;
  act: ActivationConfig;
  setOverride: (next: Partial<ActivationConfig> | null, exclude?: boolean) => void;
}) {
  return (
    <div className="row small tensor-choices">
      <span className="muted">This tensor:</span>
      <select
        aria-label="Tensor method"
        value={override?.activations?.method ? variant.id : 'default'}
        onChange={(e) =>
          setOverride(e.target.value === 'default' ? NO_VARIANT_FIELDS : variantFields(methodVariant(e.target.value)!))
        }
      >
        <option value="default">model default method</option>
        {METHOD_VARIANTS.map((m) => (
          <option key={m.id} value={m.id}>
            {m.label}
          </option>
        ))}
      </select>
      <select
        aria-label="Tensor dtype"
        value={override?.activations?.dtype ?? 'default'}
        onChange={(e) =>
          setOverride({ dtype: e.target.value === 'default' ? undefined : (e.target.value as IntDType) })
        }
      >
        <option value="default">model default</option>
        {ACT_DTYPES.map((d) => (
          <option key={d} value={d}>
            {d}
          </option>
        ))}
      </select>
      <label>
        <input
          type="checkbox"
          aria-label="Tensor symmetric"
          checked={act.symmetric}
          onChange={(e) => setOverride({ symmetric: e.target.checked })}
        />{' '}
        symmetric
      </label>
      <label>
        <input
          type="checkbox"
          aria-label="Keep tensor float"
          checked={override?.exclude === true}
          onChange={(e) => setOverride({}, e.target.checked)}
        />{' '}
        keep float
      </label>
      {override && (
        <button type="button" className="link" onClick={() => setOverride(null)}>
          reset this tensor
        </button>
      )}
    </div>
  );
}
