/**
 * Lesson 4, number formats: integers spend every bit on an evenly spaced grid; floats spend some on an
 * exponent, trading precision far from zero for range. The bit layout of a value in each format, with
 * its sign, exponent and mantissa lit, the grid of values it can hold, its range and its precision at
 * that value. Encodings come from the tool's own encoders (core/minifloat.ts, round half to even).
 */
import {
  BFLOAT16,
  decodeMiniFloat,
  encodeMiniFloat,
  FLOAT16,
  FLOAT8_E4M3FN,
  FLOAT8_E5M2,
  maxFinite,
  miniFloatFields,
  minSubnormal,
  nonNegativeValues,
  ulpAt,
  type MiniFloatFormat,
} from '../../core/minifloat';
import { bitRange } from '../../core/quantize';
import { roundHalfToEven, saturate } from '../../core/rounding';
import { Choice, Controls, Figures, num } from '../controls';
import { useChoiceParam, useNumberParam } from '../url';

type FormatName = 'int8' | 'int4' | 'int2' | 'float16' | 'bfloat16' | 'float8e4m3fn' | 'float8e5m2';

const FORMATS: readonly (readonly [FormatName, string])[] = [
  ['int8', 'int8'],
  ['int4', 'int4'],
  ['int2', 'int2'],
  ['float16', 'float16 (IEEE half)'],
  ['bfloat16', 'bfloat16'],
  ['float8e4m3fn', 'float8 E4M3FN'],
  ['float8e5m2', 'float8 E5M2'],
];

const FLOATS: Record<string, MiniFloatFormat> = {
  float16: FLOAT16,
  bfloat16: BFLOAT16,
  float8e4m3fn: FLOAT8_E4M3FN,
  float8e5m2: FLOAT8_E5M2,
};

interface Encoded {
  readonly bits: string;
  /** Per bit: 's' sign, 'e' exponent, 'm' mantissa, 'v' integer value bit. */
  readonly roles: string;
  readonly stored: number;
  readonly max: number;
  readonly precision: number;
  readonly note: string | null;
  /** Non-negative values the format holds (8 bits or fewer), for the grid. */
  readonly grid: number[] | null;
}

export function encodeFormat(x: number, name: FormatName): Encoded {
  const f = FLOATS[name];
  if (f) {
    const code = encodeMiniFloat(x, f);
    const fields = miniFloatFields(code, f);
    const stored = decodeMiniFloat(code, f);
    const max = maxFinite(f);
    const note =
      Math.abs(x) > max
        ? f.exponentBits + f.mantissaBits === 7
          ? `${num(x)} is past the largest value, ${num(max)}: it saturates (ONNX Cast, saturate=1).`
          : `${num(x)} is past the largest value, ${num(max)}: it becomes ${stored > 0 ? '+' : '−'}Infinity.`
        : x !== 0 && Math.abs(x) < minSubnormal(f) / 2
          ? `${num(x)} is below half the smallest subnormal, ${num(minSubnormal(f))}: it rounds to zero.`
          : null;
    return {
      bits: fields.bits,
      roles: 's' + 'e'.repeat(f.exponentBits) + 'm'.repeat(f.mantissaBits),
      stored,
      max,
      precision: ulpAt(stored, f),
      note,
      grid: f.exponentBits + f.mantissaBits === 7 ? nonNegativeValues(f) : null,
    };
  }
  const b = Number(name.slice(3));
  const { qmin, qmax } = bitRange(b, true);
  const q = saturate(roundHalfToEven(x), qmin, qmax);
  const bits = ((q + 2 ** b) % 2 ** b).toString(2).padStart(b, '0');
  return {
    bits,
    roles: 's' + 'v'.repeat(b - 1),
    stored: q,
    max: qmax,
    precision: 1,
    note: x > qmax || x < qmin ? `${num(x)} is outside [${qmin}, ${qmax}]: it saturates to ${q}.` : null,
    grid: Array.from({ length: qmax + 1 }, (_, k) => k),
  };
}

const ROLE_COLOR: Record<string, string> = { s: '#d1495b', e: '#2a9d8f', m: '#3553c9', v: '#6f8cff' };
const ROLE_NAME: Record<string, string> = { s: 'sign', e: 'exponent', m: 'mantissa', v: 'value' };

export function FormatsLesson() {
  const [format, setFormat] = useChoiceParam<FormatName>(
    'format',
    FORMATS.map(([f]) => f),
    'float8e4m3fn',
  );
  const [value, setValue] = useNumberParam('x', 3.3, -1e6, 1e6);
  const e = encodeFormat(value, format);
  const cell = Math.min(40, 700 / e.bits.length);
  // the grid on a log axis (floats) or a linear one (integers)
  const grid = e.grid ?? [];
  const isFloat = format in FLOATS;
  const positives = grid.filter((v) => v > 0);
  const gmin = isFloat ? Math.log2(Math.min(...positives)) : 0;
  const gmax = isFloat ? Math.log2(Math.max(...positives)) : Math.max(1, ...grid);
  const GX = (v: number) => 30 + (((isFloat ? Math.log2(v) : v) - gmin) / (gmax - gmin || 1)) * 700;
  return (
    <article className="lesson" data-testid="lesson-formats">
      <h2>4 · Number formats</h2>
      <p>
        An 8-bit integer holds 256 evenly spaced values: fine steps, small range. A float spends bits on an exponent:
        its values crowd near zero and spread out far from it, so the same 8 bits reach 448 (E4M3FN) or 57344 (E5M2) at
        the price of precision. bfloat16 keeps float32's exponent (same range, 3 significant digits); float16 keeps more
        mantissa and tops out at 65504.
      </p>
      <Controls>
        <Choice label="Format" value={format} options={FORMATS} onChange={setFormat} />
        <label className="lab-choice">
          Value{' '}
          <input
            aria-label="Value"
            className="num"
            type="number"
            step="any"
            value={value}
            onChange={(ev) => setValue(Number(ev.target.value))}
          />
        </label>
      </Controls>
      <svg className="lab-figure" viewBox={`0 0 760 ${e.grid ? 170 : 80}`} data-testid="formats-figure">
        {e.bits.split('').map((bit, k) => (
          <g key={k}>
            <rect
              x={30 + k * cell}
              y={10}
              width={cell - 3}
              height={36}
              rx={4}
              fill={ROLE_COLOR[e.roles[k]!]}
              opacity={0.85}
            />
            <text
              x={30 + k * cell + (cell - 3) / 2}
              y={34}
              fontSize={16}
              fill="#fff"
              textAnchor="middle"
              fontFamily="monospace"
            >
              {bit}
            </text>
          </g>
        ))}
        {[...new Set(e.roles)].map((r, k) => (
          <text key={r} x={30 + k * 110} y={64} fontSize={12} fill={ROLE_COLOR[r]}>
            ■ {ROLE_NAME[r]}
          </text>
        ))}
        {e.grid && (
          <g data-testid="format-grid">
            <line x1={30} x2={730} y1={120} y2={120} stroke="#333" />
            {grid
              .filter((v) => (isFloat ? v > 0 : true))
              .map((v) => (
                <line
                  key={v}
                  x1={GX(v)}
                  x2={GX(v)}
                  y1={110}
                  y2={130}
                  stroke={v === Math.abs(e.stored) ? '#d1495b' : '#7a869a'}
                  strokeWidth={v === Math.abs(e.stored) ? 3 : 1}
                />
              ))}
            <text x={30} y={150} fontSize={11}>
              {isFloat ? `${num(Math.min(...positives))} (log scale)` : '0'}
            </text>
            <text x={730} y={150} fontSize={11} textAnchor="end">
              {num(Math.max(...grid))}
            </text>
            <text x={30} y={100} fontSize={11} fill="#5a6478">
              every non-negative value the format holds ({isFloat ? positives.length : grid.length})
            </text>
          </g>
        )}
      </svg>
      {e.note && (
        <p className="warn-text" data-testid="lesson-message">
          {e.note}
        </p>
      )}
      <Figures
        items={[
          { id: 'fig-bits', label: 'bits', value: e.bits },
          { id: 'fig-stored', label: 'stored value', value: num(e.stored, 6) },
          { id: 'fig-error', label: 'error', value: num(Math.abs(value - e.stored), 6) },
          { id: 'fig-max', label: 'largest value (range)', value: num(e.max) },
          { id: 'fig-precision', label: 'step at this value (precision)', value: num(e.precision, 6) },
        ]}
      />
    </article>
  );
}
