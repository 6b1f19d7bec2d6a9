/**
 * The inputs the equalization, SmoothQuant and bias-correction choices are made with, at every level
 * (the model in the export panel, an op type in the Choices table, a node in the Weights tab).
 */

/** SmoothQuant's default alpha (core/algorithms/choices.ts SMOOTHQUANT_DEFAULT_ALPHA; the paper's and the CLI's). */
export const DEFAULT_ALPHA = 0.5;

/**
 * A choice that is on, off, or left to the level above (undefined: the model's choice for a node, the
 * model default for an op type): the one select of the Choices table and the Weights tab for bias
 * correction, equalization and SmoothQuant.
 */
export function OnOffSelect({
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

/** What 'default' reads in a node's select (the model's choice) and in an op type's (the model default). */
export const NODE_INHERIT = "model's choice";
export const OP_TYPE_INHERIT = 'model default';

/**
 * SmoothQuant's alpha, in [0, 1] (other values are not taken). With `inherited` (the model's alpha, shown
 * as the placeholder), an empty field takes it (undefined); without, emptying it changes nothing.
 */
export function AlphaInput({
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
