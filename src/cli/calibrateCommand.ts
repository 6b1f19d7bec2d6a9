/** The calibrate command: statistics of the tensors over --data, written as JSON. */
import { basename } from 'node:path';
import { calibratedRanges } from '../core/calibratedRanges';
import { DEFAULT_CONFIG } from '../core/config';
import { planQuantization, producerOpTypes } from '../onnx';
import { fixedInputs, hasFlag, flagValue, UsageError, type Args } from './args';
import { calibratePlan } from './calibratePlan';
import { readModel, writeAtomically } from './files';
import { configFromFlags } from './flags';
import { prepareWithData } from './prepareData';

export async function cmdCalibrate(a: Args): Promise<void> {
  const path = a.positional[0];
  const out = flagValue(a, 'output');
  if (!path || !out) throw new UsageError('calibrate needs a model and -o STATS.json');
  const data = a.flags.get('data');
  if (!data) throw new UsageError('calibrate needs --data');
  const { model } = readModel(path);
  const config = configFromFlags(a);
  const { prepared, samples, chain, fixed } = prepareWithData(model, path, DEFAULT_CONFIG, fixedInputs(a), data, {
    chain: hasFlag(a, 'chain'),
    autoFix: true,
  });
  // the tensors to calibrate depend on where the pairs go (a PyTorch preset observes more)
  const plan = planQuantization(prepared, { ...DEFAULT_CONFIG, placement: config.placement });
  const { mode, stats, statisticsFold } = await calibratePlan(a, {
    path,
    model,
    prepared,
    plan,
    fixed,
    samples: samples!,
    config,
    chain,
    quiet: hasFlag(a, 'json') || !process.stderr.isTTY,
  });
  const producers = producerOpTypes(prepared);
  const ranges = calibratedRanges(stats, config, (t) => producers.get(t));
  const json = {
    model: basename(path),
    samples: samples!.length,
    mode,
    statisticsFold,
    method: flagValue(a, 'method') ?? 'minmax',
    tensors: Object.fromEntries(
      Object.entries(stats).map(([t, st]) => [
        t,
        {
          min: st.minmax.min,
          max: st.minmax.max,
          count: st.minmax.count,
          nanCount: st.minmax.nanCount,
          infCount: st.minmax.infCount,
          range: ranges.get(t) ? [ranges.get(t)!.rmin, ranges.get(t)!.rmax] : null,
          histogram: { threshold: st.histogram.threshold, counts: Array.from(st.histogram.counts) },
        },
      ]),
    ),
  };
  writeAtomically(out, [new TextEncoder().encode(`${JSON.stringify(json)}\n`)]);
  if (!hasFlag(a, 'json'))
    console.log(`${out}: statistics of ${plan.activations.length} tensors over ${samples!.length} samples`);
}
