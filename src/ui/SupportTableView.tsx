// SupportTableView: which onnxruntime-web backends run each op kind of the exported file.
import { SUPPORT, type SupportRow } from '../onnx/forms';

const MARK = (v: boolean | null) => (v === null ? '·' : v ? '✓' : '✗');

/** What onnxruntime-web's backends run of this file, op by op, from the probed table. */
export function SupportTableView({ rows }: { rows: readonly SupportRow[] }) {
  return (
    <details data-testid="support-table">
      <summary>
        What runs where: {rows.filter((r) => r.support.webgpu === false).length} of {rows.length} op kinds fall back
        from WebGPU to the CPU (table probed with onnxruntime-web {SUPPORT.onnxruntimeWeb} in{' '}
        {SUPPORT.browser.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium'}, WebGPU adapter: {SUPPORT.webgpuAdapter})
      </summary>
      <table className="io small-table">
        <thead>
          <tr>
            <th>op : type</th>
            <th>nodes</th>
            <th>WASM</th>
            <th>WebGPU</th>
            <th>WebNN</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid={`support-${r.key}`}>
              <td>
                <code>{r.key}</code>
              </td>
              <td>{r.count}</td>
              <td>{MARK(r.support.wasm)}</td>
              <td>{MARK(r.support.webgpu)}</td>
              <td>{MARK(r.support.webnn)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">
        ✓ runs on that backend by itself · ✗ fails, or needs the CPU · · not probed (
        {SUPPORT.webnn.startsWith('webnn:') ? 'WebNN: ' + SUPPORT.webnn.replace(/^webnn: /, '') : SUPPORT.webnn})
      </p>
    </details>
  );
}
