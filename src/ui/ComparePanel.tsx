import { useEffect, useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { fetchSampleFiles, heldOutNames } from '../state/sample';
import { readDetection, readRecognition, recAccuracy, type DetReading } from '../data/ocrReadings';
import { ErrorBanner } from './ErrorBanner';
import { formatNumber } from './format';
import type { AppStore } from '../state/store';
import { useApp, useAppStore } from './useApp';

async function runCompare(store: AppStore, files: FileList | null): Promise<void> {
  const s = store.getState();
  if (files && files.length) {
    const list = await Promise.all(
      [...files].map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
    );
    return s.compare(list);
  }
  const ocr = s.model?.ocr;
  if (ocr) return s.compare(await fetchSampleFiles(BASE, ocr, heldOutNames(ocr)));
  return s.compare();
}

const BASE = import.meta.env.BASE_URL;

function useText(url: string | null): string | null {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    if (!url) return;
    let live = true;
    fetch(url)
      .then((r) => (r.ok ? r.text() : null))
      .then((t) => live && setText(t))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [url]);
  return text;
}

function Boxes({ reading }: { reading: DetReading }) {
  return (
    <figure className="det" data-testid="det-reading">
      <div className="det-canvas">
        <img src={`${BASE}samples/det/${reading.name}`} alt={reading.name} />
        <svg viewBox={`0 0 ${reading.width} ${reading.height}`} preserveAspectRatio="none">
          {reading.float.map((b, i) => (
            <rect key={`f${i}`} x={b.x0} y={b.y0} width={b.x1 - b.x0} height={b.y1 - b.y0} className="box-float" />
          ))}
          {reading.quantized.map((b, i) => (
            <rect key={`q${i}`} x={b.x0} y={b.y0} width={b.x1 - b.x0} height={b.y1 - b.y0} className="box-quant" />
          ))}
        </svg>
      </div>
      <figcaption>
        {reading.name}: <span className="float-key">float {reading.float.length} boxes</span> ·{' '}
        <span className="quant-key">exported {reading.quantized.length} boxes</span>
      </figcaption>
    </figure>
  );
}

export function ComparePanel() {
  const store = useAppStore();
  const model = useApp((s) => s.model);
  const cmp = useApp((s) => s.comparison);
  const exported = useApp((s) => s.exported);
  const dictionary = useText(model?.ocr === 'rec' ? `${BASE}samples/models/ppocr_keys_v1.txt` : null);
  const labelsText = useText(model?.ocr === 'rec' ? `${BASE}samples/rec/labels.json` : null);
  const results = cmp.results;
  const metrics = useMemo(() => {
    if (!results?.length) return [];
    const names = results[0]!.outputs.map((o) => o.name);
    return names.map((name) => {
      const rows = results.map((r) => r.outputs.find((o) => o.name === name)!.metrics);
      const mean = (f: (m: (typeof rows)[number]) => number) => rows.reduce((a, m) => a + f(m), 0) / rows.length;
      const tk = results.map((r) => r.outputs.find((o) => o.name === name)!.topK);
      const topK = tk.every((t) => t)
        ? {
            top1: tk.reduce((a, t) => a + t!.top1, 0),
            top5: tk.reduce((a, t) => a + t!.top5, 0),
            rows: tk.reduce((a, t) => a + t!.rows, 0),
          }
        : null;
      return {
        name,
        sqnr: mean((m) => m.sqnrDb),
        cosine: mean((m) => m.cosine),
        maxAbs: Math.max(...rows.map((m) => m.maxAbs)),
        topK,
      };
    });
  }, [results]);
  if (!model || !exported) return null;
  const perSample =
    results?.map((r) => ({ name: r.name, sqnr: Number(r.outputs[0]?.metrics.sqnrDb.toFixed(2) ?? 0) })) ?? [];
  const rec = model.ocr === 'rec' && results && dictionary ? readRecognition(results, dictionary) : null;
  const truth = labelsText ? (JSON.parse(labelsText) as Record<string, string>) : {};
  const acc = rec ? recAccuracy(rec, truth) : null;
  const det = model.ocr === 'det' && results && cmp.heldOut ? readDetection(results) : null;
  return (
    <section className="card" data-testid="compare-panel">
      <h2>6 · Float against the export</h2>
      <div className="row">
        <label className="button">
          Held-out samples
          <input
            type="file"
            multiple
            aria-label="Held-out samples"
            accept="image/png,image/jpeg,image/webp,.npy,.npz,.pb"
            onChange={(e) => void runCompare(store, e.target.files)}
          />
        </label>
        <button
          type="button"
          className="primary"
          disabled={cmp.status === 'running'}
          onClick={() => void runCompare(store, null)}
        >
          Compare
        </button>
      </div>
      {cmp.status === 'done' && !cmp.heldOut && (
        <p className="warn-text">
          These are calibration samples, not held-out ones: load held-out samples for an honest measure.
        </p>
      )}
      <p className="muted">
        {cmp.status === 'running' && 'Running both models…'}
        {cmp.status === 'done' &&
          `${results!.length} ${cmp.heldOut ? 'held-out' : 'calibration (not held-out)'} samples, ${cmp.forExport}.`}
      </p>
      {metrics.length > 0 && (
        <table className="io" data-testid="compare-metrics">
          <thead>
            <tr>
              <th>output</th>
              <th>SQNR (dB)</th>
              <th>cosine</th>
              <th>max |error|</th>
              <th>top-1 / top-5</th>
            </tr>
          </thead>
          <tbody>
            {metrics.map((m) => (
              <tr key={m.name}>
                <td>{m.name}</td>
                <td data-testid="compare-sqnr">{m.sqnr.toFixed(2)}</td>
                <td>{m.cosine.toFixed(5)}</td>
                <td>{formatNumber(m.maxAbs)}</td>
                <td data-testid="compare-topk">
                  {m.topK ? `${m.topK.top1}/${m.topK.rows} · ${m.topK.top5}/${m.topK.rows}` : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {perSample.length > 1 && (
        <div className="chart small-chart" data-testid="compare-chart">
          <ResponsiveContainer width="100%" height={160}>
            <BarChart data={perSample} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ee" />
              <XAxis dataKey="name" tick={{ fontSize: 11 }} />
              <YAxis unit=" dB" width={60} />
              <Tooltip />
              <Bar dataKey="sqnr" name="SQNR (dB)" fill="#6f8cff" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
      {rec && (
        <>
          {acc && (
            <p data-testid="rec-accuracy">
              Character accuracy: float <b>{(100 * acc.float).toFixed(1)}%</b>, exported{' '}
              <b>{(100 * acc.quantized).toFixed(1)}%</b>
            </p>
          )}
          <table className="io" data-testid="rec-readings">
            <thead>
              <tr>
                <th>line</th>
                <th>float reads</th>
                <th>exported reads</th>
              </tr>
            </thead>
            <tbody>
              {rec.map((r) => (
                <tr key={r.name} className={r.float === r.quantized ? '' : 'differs'}>
                  <td>
                    <img className="line" src={`${BASE}samples/rec/${r.name}`} alt={truth[r.name] ?? r.name} />
                  </td>
                  <td>{r.float}</td>
                  <td data-testid="rec-int8">{r.quantized}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {det && (
        <div className="det-grid">
          {det.map((d) => (
            <Boxes key={d.name} reading={d} />
          ))}
        </div>
      )}
      <ErrorBanner error={cmp.error} testId="compare-error" />
    </section>
  );
}
