import { useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Bar, CartesianGrid, ComposedChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { weightConfigFor } from '../core/config';
import { weightGranularity, type WeightGranularityReport } from '../core/weightStats';
import { readFloat32 } from '../onnx';
import { formatNumber } from './format';
import { niceTicks } from './histogramPlot';
import { onLinkClick } from './route';
import { useApp, useAppStore } from './useApp';
import { NodeRounding } from './RoundingOptions';
import { NodeAlgorithms, NodeBiasCorrection } from './AlgorithmOverrides';

/**
 * Weights, node by node: each output channel's min/max as a bar with the single range a per-tensor
 * scale has to cover drawn over them, and what per-tensor and per-channel int8 cost on this weight.
 */
export function WeightExplorer() {
  const model = useApp((s) => s.model);
  const config = useApp((s) => s.config);
  const store = useAppStore();
  const nodes = useMemo(() => model?.plan.nodes.filter((n) => n.weight) ?? [], [model]);
  const [selected, setSelected] = useState<string | null>(null);
  const [sortByOutliers, setSortByOutliers] = useState(true);
  const reports = useMemo(() => {
    const out = new Map<string, WeightGranularityReport | string>();
    if (!model) return out;
    const inits = new Map(model.prepared.graph!.initializer.map((t) => [t.name, t]));
    for (const n of nodes) {
      const t = inits.get(n.weight!.tensor);
      if (!t) continue;
      try {
        out.set(n.name, weightGranularity(readFloat32(t), t.dims.map(Number), n.weight!.axis));
      } catch (e) {
        out.set(n.name, (e as Error).message);
      }
    }
    return out;
  }, [model, nodes]);
  if (!model) return null;
  const order = [...nodes].sort((a, b) => {
    if (!sortByOutliers) return 0;
    const ra = reports.get(a.name);
    const rb = reports.get(b.name);
    const gap = (r: WeightGranularityReport | string | undefined) =>
      typeof r === 'object' ? r.sqnrPerChannelDb - r.sqnrPerTensorDb : -1;
    return gap(rb) - gap(ra);
  });
  const current = selected ?? order[0]?.name ?? null;
  const node = nodes.find((n) => n.name === current);
  const report = current ? reports.get(current) : undefined;
  const wc = node ? weightConfigFor(config, node.name, node.opType) : null;
  return (
    <div className="explorer" data-testid="weight-explorer">
      <div className="tensor-list">
        <label className="small check-row">
          <input type="checkbox" checked={sortByOutliers} onChange={(e) => setSortByOutliers(e.target.checked)} /> most
          hurt by per-tensor first
        </label>
        <ul className="plain-list" data-testid="weight-list">
          {order.map((n) => {
            const r = reports.get(n.name);
            return (
              <li key={n.name}>
                <button
                  type="button"
                  className={n.name === current ? 'selected' : ''}
                  onClick={() => setSelected(n.name)}
                  title={n.weight!.tensor}
                >
                  <span className="name">
                    {n.opType} {n.name}
                  </span>
                  {typeof r === 'object' && (
                    <span className="badge">
                      per-tensor {r.sqnrPerTensorDb.toFixed(1)} dB · per-channel {r.sqnrPerChannelDb.toFixed(1)} dB
                    </span>
                  )}
                </button>
              </li>
            );
          })}
        </ul>
      </div>
      <div className="tensor-detail">
        {node && typeof report === 'object' && wc ? (
          <>
            <h3 data-testid="selected-weight">{node.weight!.tensor}</h3>
            <p className="muted">
              weight of {node.opType} "{node.name}" · {report.channels} output channels (axis {node.weight!.axis}) · |w|
              mean {formatNumber(report.meanAbs)}, max {formatNumber(report.absMax)} (channel {report.outlierChannel},{' '}
              {formatNumber(report.outlierRatio)}× the median channel's)
            </p>
            <ChannelChart report={report} />
            {node.opType === 'Conv' && (
              <p className="muted small">
                <a
                  href={`/lab/granularity?weight=${encodeURIComponent(node.name)}`}
                  onClick={(e) => onLinkClick(e, `/lab/granularity?weight=${encodeURIComponent(node.name)}`)}
                >
                  Why? The lesson on granularity, on this weight →
                </a>
              </p>
            )}
            <table className="io small-table" data-testid="granularity-table">
              <thead>
                <tr>
                  <th>int8 symmetric</th>
                  <th>scales</th>
                  <th>SQNR (dB)</th>
                  <th>channels all zero</th>
                </tr>
              </thead>
              <tbody>
                <tr data-testid="granularity-tensor">
                  <td>per tensor</td>
                  <td>1 ({formatNumber(report.absMax / 127)})</td>
                  <td data-testid="sqnr-per-tensor">{report.sqnrPerTensorDb.toFixed(2)}</td>
                  <td>{report.deadChannelsPerTensor}</td>
                </tr>
                <tr data-testid="granularity-channel">
                  <td>per channel</td>
                  <td>{report.channels}</td>
                  <td data-testid="sqnr-per-channel">{report.sqnrPerChannelDb.toFixed(2)}</td>
                  <td>0</td>
                </tr>
              </tbody>
            </table>
            <div className="row small">
              <span className="muted">This node's weights:</span>
              <select
                aria-label="Node weight granularity"
                value={
                  config.nodes?.[node.name]?.weights?.perChannel === undefined
                    ? 'default'
                    : wc.perChannel
                      ? 'channel'
                      : 'tensor'
                }
                onChange={(e) =>
                  store.getState().editConfig({
                    kind: 'node',
                    node: node.name,
                    weights: { perChannel: e.target.value === 'default' ? undefined : e.target.value === 'channel' },
                  })
                }
              >
                <option value="default">default ({wc.perChannel ? 'per channel' : 'per tensor'})</option>
                <option value="channel">per channel</option>
                <option value="tensor">per tensor</option>
              </select>
              <label>
                <input
                  type="checkbox"
                  aria-label="Keep node float"
                  checked={config.nodes?.[node.name]?.exclude === true}
                  onChange={(e) =>
                    store.getState().editConfig({ kind: 'node', node: node.name, exclude: e.target.checked })
                  }
                />{' '}
                keep this node float
              </label>
            </div>
            <NodeRounding node={node.name} />
            <NodeBiasCorrection node={node.name} />
            <NodeAlgorithms node={node.name} opType={node.opType} />
          </>
        ) : typeof report === 'string' ? (
          <p className="error">{report}</p>
        ) : (
          <p>This model has no weights to quantize.</p>
        )}
      </div>
    </div>
  );
}

function ChannelChart({ report }: { report: WeightGranularityReport }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    if (box.current) setWidth(box.current.clientWidth);
  }, []);
  const data = Array.from(report.mins, (m, c) => ({ channel: c, range: [m, report.maxs[c]!] as [number, number] }));
  return (
    <div className="chart" ref={box} data-testid="channel-chart" data-channels={report.channels}>
      {width > 0 && (
        <ComposedChart
          width={width}
          height={260}
          data={data}
          margin={{ top: 16, right: 16, bottom: 8, left: 8 }}
          barCategoryGap={0}
        >
          <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ee" />
          <XAxis dataKey="channel" tickFormatter={String} />
          <YAxis
            tickFormatter={formatNumber}
            width={56}
            domain={[-report.absMax * 1.08, report.absMax * 1.08]}
            ticks={niceTicks(-report.absMax * 1.08, report.absMax * 1.08)}
            allowDataOverflow
          />
          <Tooltip
            formatter={(v) =>
              Array.isArray(v) ? `${formatNumber(Number(v[0]))} … ${formatNumber(Number(v[1]))}` : String(v)
            }
            labelFormatter={(c) => `channel ${c}`}
          />
          <Bar dataKey="range" fill="#6f8cff" isAnimationActive={false} />
          <ReferenceLine
            y={report.absMax}
            stroke="#d1495b"
            strokeWidth={2}
            label={{
              value: `per-tensor range ±${formatNumber(report.absMax)}`,
              position: 'insideTopRight',
              fill: '#d1495b',
            }}
          />
          <ReferenceLine y={-report.absMax} stroke="#d1495b" strokeWidth={2} />
        </ComposedChart>
      )}
    </div>
  );
}
