/**
 * Tune's result: met or missed, the metric and size before and after, the written file's own numbers,
 * what changed, and the Pareto plot of every configuration tried, where any point can be picked.
 */
import { floatModelBytes } from '../state/exportResult';
import { FILE_NUDGES, targetLabel, type TuneSummary } from '../state/tuneSlice';
import { formatBytes } from './format';
import { ParetoPlot } from './ParetoPlot';
import { TuneChanges } from './TuneChanges';
import { formatTuneValue } from './TuneFormat';
import { useApp, useAppStore } from './useApp';

/**
 * The written file's own numbers: the chosen configuration's bytes (as Export writes them) run in
 * onnxruntime on every held-out sample (runtime/tune/verify.ts). The search's value comes from the
 * switchboard (every op in float on dequantized values); it is shown beside only where it differs.
 */
function WrittenFile({ summary, frac }: { summary: TuneSummary; frac: (b: number) => string }) {
  const r = summary.result;
  const chosen = r.trials[summary.chosen]!;
  const f = summary.file!;
  const fmt = (v: number) => formatTuneValue(r.target.metric, v);
  const m = f.metrics;
  const also = [
    r.target.metric !== 'top1' && m.top1 !== null ? `top-1 agreement ${formatTuneValue('top1', m.top1)}` : null,
    r.target.metric !== 'sqnr' ? `output SQNR ${formatTuneValue('sqnr', m.sqnrDb)}` : null,
  ].filter((x): x is string => x !== null);
  // the page runs onnxruntime-web's WASM build; the tests' store runs onnxruntime-node ('cpu')
  const engine = summary.latency.backend === 'wasm' ? '-web WASM on this machine' : '';
  return (
    <p data-testid="tune-file">
      Measured on the written file in onnxruntime{engine} ({m.samples} held-out sample{m.samples === 1 ? '' : 's'}):{' '}
      <b data-testid="tune-after">{fmt(f.value)}</b>
      {m.stableTop1 !== undefined && m.top1 !== null && (
        <span data-testid="tune-stable">
          {' '}
          (counting only the rows that read the same with the input nudged by up to 0.1% of its largest value in{' '}
          {FILE_NUDGES} more runs; {formatTuneValue('top1', m.top1)} plain: other builds of onnxruntime, such as
          onnxruntime-node&rsquo;s native kernels, round some values the other way and read a few rows differently)
        </span>
      )}
      {fmt(f.value) !== fmt(chosen.value) && (
        <span className="muted" data-testid="tune-switchboard">
          {' '}
          (the search measured {fmt(chosen.value)} on its switchboard model, which runs every op in float; the file runs
          onnxruntime&rsquo;s integer kernels)
        </span>
      )}
      {also.length > 0 && `, ${also.join(', ')}`}; size <b data-testid="tune-file-size">{formatBytes(f.bytes)}</b>,{' '}
      {frac(f.bytes)} of the float file.
    </p>
  );
}

export function TuneResultView() {
  const store = useAppStore();
  const t = useApp((s) => s.tuning);
  const model = useApp((s) => s.model)!;
  const s = t.summary!;
  const r = s.result;
  const start = r.trials[0]!;
  const chosen = r.trials[s.chosen]!;
  const picked = t.picked !== null ? r.trials[t.picked]! : chosen;
  // the float model's files, its external data files included
  const floatBytes = floatModelBytes(model);
  const frac = (b: number) => `${((100 * b) / floatBytes).toFixed(1)}%`;
  const fmt = (v: number) => formatTuneValue(r.target.metric, v);
  // met where the written file meets it in onnxruntime, as the command line says it
  const met = chosen.meets && (s.file ? s.file.meets : true);
  return (
    <div data-testid="tune-result" data-met={String(met)}>
      <p>
        <b>
          {met ? 'Meets' : 'Misses'} {targetLabel(r.target)}
        </b>{' '}
        on output <code>{s.output}</code>: {fmt(start.value)} where the search started ({frac(start.bytes)} of the float
        file, estimated)
        {s.file ? (
          '.'
        ) : (
          <>
            {' '}
            → <b data-testid="tune-after">{fmt(chosen.value)}</b>, {frac(chosen.bytes)} (about{' '}
            {formatBytes(chosen.bytes)}).
          </>
        )}{' '}
        <span className="muted">
          {r.trials.length} configuration{r.trials.length === 1 ? '' : 's'} in {(r.elapsedMs / 1000).toFixed(1)} s,
          judged on {t.heldOutSource}.
        </span>
      </p>
      {s.file && <WrittenFile summary={s} frac={frac} />}
      <h3>What changed and why</h3>
      <TuneChanges />
      {s.refused.length > 0 && (
        <p className="warn-text" data-testid="tune-refused">
          Passed over {s.refused.length} smaller configuration{s.refused.length === 1 ? '' : 's'} whose file does not
          run in onnxruntime or misses the target there: {s.refused[0]!.reason}
        </p>
      )}
      <ParetoPlot
        trials={r.trials}
        floatBytes={floatBytes}
        target={r.target}
        chosen={chosen.id}
        picked={t.picked}
        onPick={(id) => store.getState().pickTrial(id)}
        latency={s.latency}
      />
      <p data-testid="tune-picked">
        In use: #{picked.id} {picked.label} ({fmt(picked.value)}, {frac(picked.bytes)})
        {picked.id === chosen.id ? ', the search\u2019s choice.' : ', picked by you.'} Export writes it.
      </p>
    </div>
  );
}
