/** The TFLite forms in the export panel: their options, their description, and the report beside the download. */
import type { ExportForm } from '../core/config';
import { shapesFixedWords, TFLITE_MICRO, type TfliteReport } from '../onnx/forms/tflite';
import { formatBytes } from './format';

type Form = Extract<ExportForm, { kind: 'tflite' }>;

export function tfliteDescription(form: Form): string {
  if (form.precision === 'float32')
    return 'TFLite float32: the model as TFLite builtin ops, NHWC. Needs no calibration.';
  if (form.precision === 'float16')
    return 'TFLite float16: weights stored float16 and expanded by DEQUANTIZE at load (TFLite’s float16 quantization). Needs no calibration.';
  return `TFLite int8, by TFLite's int8 specification: activations int8 asymmetric per tensor (the calibrated ranges, as static QDQ uses them), Conv weights int8 symmetric per output channel, FullyConnected weights per ${form.fullyConnectedPerChannel ? 'channel' : 'tensor'}, int32 bias; ${form.io === 'int8' ? 'int8 inputs and outputs (their scale and zero point are reported)' : 'float inputs and outputs through QUANTIZE/DEQUANTIZE'}. Runs on phones (XNNPACK, NNAPI) and in TFLite Micro.`;
}

export function TfliteOptions({ form, set }: { form: Form; set: (f: ExportForm) => void }) {
  if (form.precision !== 'int8') return null;
  return (
    <>
      <label>
        inputs and outputs{' '}
        <select
          aria-label="TFLite inputs and outputs"
          value={form.io ?? 'float'}
          onChange={(e) => set({ ...form, io: e.target.value as 'int8' | 'float' })}
        >
          <option value="float">float (QUANTIZE/DEQUANTIZE)</option>
          <option value="int8">int8 (microcontrollers)</option>
        </select>
      </label>
      <label>
        <input
          type="checkbox"
          aria-label="FullyConnected per channel"
          checked={form.fullyConnectedPerChannel ?? false}
          onChange={(e) => set({ ...form, fullyConnectedPerChannel: e.target.checked })}
        />{' '}
        FullyConnected per channel
      </label>
    </>
  );
}

const io = (x: TfliteReport['inputs'][number]) =>
  `${x.name}: ${x.type} [${x.shape.join(', ')}]${x.scale !== undefined ? `, scale ${x.scale.toPrecision(6)}, zero point ${x.zeroPoint}` : ''}`;

/** Ops used, the TFLite Micro arena estimate, and whether each op has an int8 kernel in TFLite Micro. */
export function TfliteReportView({ report }: { report: TfliteReport }) {
  return (
    <div data-testid="tflite-report">
      <ul className="log">
        {report.inputs.map((x) => (
          <li key={`in-${x.name}`} data-testid="tflite-input">
            input {io(x)}
          </li>
        ))}
        {report.outputs.map((x) => (
          <li key={`out-${x.name}`}>output {io(x)}</li>
        ))}
        {report.shapesFixed > 0 && <li data-testid="tflite-shapes-fixed">{shapesFixedWords(report)}</li>}
        <li data-testid="tflite-arena">
          TFLite Micro tensor arena: at least {formatBytes(report.arenaBytes)} (the largest set of activations alive at
          once, at {report.arenaPeakAt}); weights {formatBytes(report.weightBytes)}
        </li>
        {report.precision === 'int8' && (
          <li data-testid="tflite-micro-ready">
            {report.microReady
              ? 'Every op has an int8 kernel in TFLite Micro.'
              : 'Some ops have no int8 kernel in TFLite Micro (marked below).'}
          </li>
        )}
      </ul>
      <table className="io small-table" data-testid="tflite-ops">
        <thead>
          <tr>
            <th>TFLite op</th>
            <th>count</th>
            <th>version</th>
            <th>TFLite Micro int8 kernel</th>
          </tr>
        </thead>
        <tbody>
          {report.ops.map((o) => (
            <tr key={o.op} data-testid={`tflite-op-${o.op}`}>
              <td>
                <code>{o.op}</code>
              </td>
              <td>{o.count}</td>
              <td>{o.version}</td>
              <td>{o.micro?.registered && o.micro.int8 ? '✓' : '✗'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">TFLite Micro table: {TFLITE_MICRO.source}.</p>
    </div>
  );
}
