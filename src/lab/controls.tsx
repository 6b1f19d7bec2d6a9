/** The lab's controls: labelled sliders and menus, hidden when a lesson is embedded. */
import type { ReactNode } from 'react';
import { isEmbedded } from './url';

export function Controls({ children }: { children: ReactNode }) {
  if (isEmbedded()) return null;
  return <div className="lab-controls">{children}</div>;
}

export function Slider({
  label,
  value,
  min,
  max,
  step,
  onChange,
  format = String,
}: {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  onChange: (v: number) => void;
  format?: (v: number) => string;
}) {
  return (
    <label className="lab-slider">
      <span>
        {label} <b>{format(value)}</b>
      </span>
      <input
        type="range"
        aria-label={label}
        min={min}
        max={max}
        step={step}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
      />
    </label>
  );
}

export function Choice<T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T;
  options: readonly (readonly [T, string])[];
  onChange: (v: T) => void;
}) {
  return (
    <label className="lab-choice">
      {label}{' '}
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Toggle({ label, value, onChange }: { label: string; value: boolean; onChange: (v: boolean) => void }) {
  return (
    <label className="lab-toggle">
      <input type="checkbox" aria-label={label} checked={value} onChange={(e) => onChange(e.target.checked)} /> {label}
    </label>
  );
}

/** A figure's headline numbers, each with a test id. */
export function Figures({ items }: { items: readonly { id: string; label: string; value: string }[] }) {
  return (
    <dl className="lab-figures">
      {items.map((f) => (
        <div key={f.id}>
          <dt>{f.label}</dt>
          <dd data-testid={f.id}>{f.value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Format a number for a figure, never as NaN. */
export function num(v: number, digits = 4): string {
  if (Number.isNaN(v)) return '—';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(digits - 1);
  return Number(v.toFixed(digits)).toString();
}
