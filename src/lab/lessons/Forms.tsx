/**
 * Lesson 6, static vs dynamic quantization, and weight-only: what each computes ahead of time and
 * what at run time, drawn as the graph each export produces for y = x·W + b, and measured on a layer:
 * static uses activation scales fixed by calibration, dynamic computes them from each input, and
 * weight-only keeps activations float. Scales and codes come from the tool's core functions.
 */
import { useMemo } from 'react';
import { sqnr } from '../../core/metrics';
import { activationQParams } from '../../core/qparams';
import { dequantizeLinear, quantizeLinear } from '../../core/quantize';
import { mulberry32, normalSampler } from '../../core/random';
import { quantizeWeightPerChannel } from '../../core/weights';
import { Choice, Controls, Figures, num, Slider } from '../controls';
import { useChoiceParam, useNumberParam } from '../url';

type Form = 'static' | 'dynamic' | 'weight-only';

const K = 64;
const N = 32;
/** Tall enough for the longest label (four lines at 11 px in the narrowest box, five nodes). */
const BOX_HEIGHT = 76;

interface Node {
  readonly label: string;
  readonly when: 'ahead' | 'run';
}

const GRAPHS: Record<Form, Node[]> = {
  static: [
    { label: 'x (float)', when: 'run' },
    { label: 'QuantizeLinear(x, s_x, z_x): s_x, z_x from calibration', when: 'ahead' },
    { label: 'DequantizeLinear', when: 'run' },
    { label: 'W: int8 + scales (DequantizeLinear)', when: 'ahead' },
    { label: 'MatMul + Add (fused to int8 kernels by the runtime)', when: 'run' },
  ],
  dynamic: [
    { label: 'x (float)', when: 'run' },
    { label: 'DynamicQuantizeLinear(x): s_x, z_x from this x', when: 'run' },
    { label: 'W: uint8/int8 + scale, zero point', when: 'ahead' },
    { label: 'MatMulInteger → int32', when: 'run' },
    { label: 'Cast, Mul(s_x · s_W), Add(b)', when: 'run' },
  ],
  'weight-only': [
    { label: 'x (float)', when: 'run' },
    { label: 'W: int8/int4 + scales', when: 'ahead' },
    { label: 'DequantizeLinear(W) (or MatMulNBits)', when: 'run' },
    { label: 'MatMul + Add in float', when: 'run' },
  ],
};

export interface FormMeasure {
  readonly sqnrDb: number;
  readonly inputScale: number | null;
}

/** y = x·W for one input row under each form; the static scale comes from calibration inputs of magnitude 1. */
export function measureForm(form: Form, magnitude: number): FormMeasure {
  const normal = normalSampler(mulberry32(5));
  const w = Float32Array.from({ length: N * K }, () => normal() * 0.2); // [N, K]: output channels first
  const calib = Float32Array.from({ length: 8 * K }, () => normal());
  const x = Float32Array.from({ length: K }, () => normal() * magnitude);
  const matmul = (a: Float32Array, wt: Float32Array) =>
    Float32Array.from({ length: N }, (_, n) => a.reduce((s, v, k) => s + v * wt[n * K + k]!, 0));
  const ref = matmul(x, w);
  const qw = quantizeWeightPerChannel(w, [N, K], 0, { dtype: 'int8', symmetric: true });
  const wq = new Float32Array(N * K);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) wq[n * K + k] = (qw.data[n * K + k]! - qw.zeroPoints[n]!) * qw.scales[n]!;
  if (form === 'weight-only') return { sqnrDb: sqnr(ref, matmul(x, wq)), inputScale: null };
  const range = (v: Float32Array) =>
    v.reduce((r, a) => ({ lo: Math.min(r.lo, a), hi: Math.max(r.hi, a) }), { lo: 0, hi: 0 });
  const r = form === 'static' ? range(calib) : range(x);
  const p = activationQParams(r.lo, r.hi, 'uint8');
  const xq = dequantizeLinear(quantizeLinear(x, p.scale, p.zeroPoint, 'uint8'), p.scale, p.zeroPoint);
  return { sqnrDb: sqnr(ref, matmul(xq, wq)), inputScale: p.scale };
}

export function FormsLesson() {
  const [form, setForm] = useChoiceParam<Form>('form', ['static', 'dynamic', 'weight-only'], 'static');
  const [magnitude, setMagnitude] = useNumberParam('mag', 1, 0.05, 20);
  const m = useMemo(
    () => ({
      static: measureForm('static', magnitude),
      dynamic: measureForm('dynamic', magnitude),
      'weight-only': measureForm('weight-only', magnitude),
    }),
    [magnitude],
  );
  const nodes = GRAPHS[form];
  return (
    <article className="lesson" data-testid="lesson-forms">
      <h2>6 · Static, dynamic, weight-only</h2>
      <p>
        <b>Static</b> quantization fixes every activation's scale during calibration: nothing is measured at run time,
        and integer kernels run end to end, but an input outside the calibrated range is clipped. <b>Dynamic</b>{' '}
        quantization measures each input's range when it arrives (DynamicQuantizeLinear): no calibration, a little work
        per run, common for transformers on CPU. <b>Weight-only</b> stores weights in 8 or 4 bits and computes in float:
        the file shrinks, the arithmetic does not change, which suits memory-bound models such as LLMs.
      </p>
      <Controls>
        <Choice
          label="Form"
          value={form}
          options={[
            ['static', 'static (QDQ)'],
            ['dynamic', 'dynamic'],
            ['weight-only', 'weight-only'],
          ]}
          onChange={setForm}
        />
        <Slider
          label="Input magnitude (calibrated at 1)"
          value={magnitude}
          min={0.05}
          max={20}
          step={0.05}
          onChange={setMagnitude}
        />
      </Controls>
      <svg className="lab-figure" viewBox="0 0 760 110" data-testid="forms-figure">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" fill="#555" />
          </marker>
        </defs>
        {nodes.map((n, k) => {
          const w = 700 / nodes.length;
          return (
            <g key={k}>
              <rect
                x={20 + k * w}
                y={10}
                width={w - 22}
                height={BOX_HEIGHT}
                rx={6}
                fill={n.when === 'ahead' ? '#d8f0e6' : '#fde8cf'}
                stroke={n.when === 'ahead' ? '#2a9d8f' : '#e9a23b'}
              />
              <foreignObject x={24 + k * w} y={12} width={w - 30} height={BOX_HEIGHT - 4}>
                <div className="node-label">{n.label}</div>
              </foreignObject>
              {k < nodes.length - 1 && (
                <line
                  x1={20 + k * w + w - 22}
                  x2={20 + (k + 1) * w}
                  y1={10 + BOX_HEIGHT / 2}
                  y2={10 + BOX_HEIGHT / 2}
                  stroke="#555"
                  markerEnd="url(#arrow)"
                />
              )}
            </g>
          );
        })}
        <text x={20} y={104} fontSize={11} fill="#2a9d8f">
          ■ computed ahead (in the file)
        </text>
        <text x={200} y={104} fontSize={11} fill="#e9a23b">
          ■ computed at run time
        </text>
      </svg>
      <Figures
        items={[
          { id: 'fig-sqnr-static', label: 'static: output SQNR (dB)', value: num(m.static.sqnrDb, 3) },
          { id: 'fig-sqnr-dynamic', label: 'dynamic: output SQNR (dB)', value: num(m.dynamic.sqnrDb, 3) },
          {
            id: 'fig-sqnr-weight-only',
            label: 'weight-only: output SQNR (dB)',
            value: num(m['weight-only'].sqnrDb, 3),
          },
          { id: 'fig-scale-static', label: 'static input scale (fixed)', value: num(m.static.inputScale ?? NaN) },
          {
            id: 'fig-scale-dynamic',
            label: 'dynamic input scale (this input)',
            value: num(m.dynamic.inputScale ?? NaN),
          },
        ]}
      />
    </article>
  );
}
