/**
 * Lesson 5, PTQ vs QAT: a small network learns a 2-D dataset in this page (pure TypeScript, trained in
 * slices of a few milliseconds so the page never freezes). Quantized after training (PTQ) its boundary
 * breaks at low bit widths; trained with fake quantization (QAT, the straight-through estimator) it
 * learns weights that live on the grid.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { makeDataset, DATASETS, type Dataset, type DatasetName } from '../train/datasets';
import { experiment, type Experiment } from '../train/experiment';
import { effectiveWeights } from '../train/fakeQuant';
import { predict, type Mlp, type Quantization } from '../train/mlp';
import { Choice, Controls, Figures, num } from '../controls';
import { useChoiceParam, useNumberParam } from '../url';
import { median } from '../../core/metrics';

const SIZE = 220;

function Boundary({
  net,
  q,
  data,
  label,
  testId,
}: {
  net: Mlp | null;
  q: Quantization;
  data: Dataset;
  label: string;
  testId: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const cells = 55;
    const px = SIZE / cells;
    ctx.clearRect(0, 0, SIZE, SIZE);
    if (net) {
      const weights = effectiveWeights(net, q); // once: the weight scales are searched per tensor
      for (let i = 0; i < cells; i++) {
        for (let j = 0; j < cells; j++) {
          const x = -6 + (12 * (i + 0.5)) / cells;
          const y = 6 - (12 * (j + 0.5)) / cells;
          const p = predict(net, x, y, q, weights);
          ctx.fillStyle =
            p >= 0.5 ? `rgba(53, 83, 201, ${0.15 + 0.35 * p})` : `rgba(233, 162, 59, ${0.15 + 0.35 * (1 - p)})`;
          ctx.fillRect(i * px, j * px, px + 0.5, px + 0.5);
        }
      }
    }
    for (let k = 0; k < data.count; k++) {
      const x = ((data.points[2 * k]! + 6) / 12) * SIZE;
      const y = ((6 - data.points[2 * k + 1]!) / 12) * SIZE;
      ctx.fillStyle = data.labels[k] ? '#1d3aa8' : '#b5651d';
      ctx.beginPath();
      ctx.arc(x, y, 2.2, 0, 2 * Math.PI);
      ctx.fill();
    }
  }, [net, q, data]);
  return (
    <figure className="boundary">
      <canvas ref={ref} width={SIZE} height={SIZE} data-testid={testId} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

/** Run the experiment in slices of ~12 ms, yielding to the page between them. */
function runSliced(
  train: Dataset,
  test: Dataset,
  bits: number,
  seed: number,
  onProgress: (p: number) => void,
  signal: { cancelled: boolean },
): Promise<Experiment | null> {
  const gen = experiment(train, test, bits, seed, { chunk: 2 });
  return new Promise((resolve) => {
    const step = () => {
      if (signal.cancelled) return resolve(null);
      const t0 = performance.now();
      while (performance.now() - t0 < 12) {
        const r = gen.next();
        if (r.done) return resolve(r.value);
        onProgress(r.value);
      }
      setTimeout(step, 0);
    };
    setTimeout(step, 0);
  });
}

export function PtqQatLesson() {
  const [name, setNameParam] = useChoiceParam<DatasetName>('data', DATASETS, 'spiral');
  const [bits, setBitsParam] = useChoiceParam<'8' | '4' | '2'>('bits', ['8', '4', '2'], '2');
  const [seed, setSeedParam] = useNumberParam('seed', 1, 1, 1000);
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<Experiment | null>(null);
  const [seeds, setSeeds] = useState<{ ptq: number; qat: number; float: number }[] | null>(null);
  const cancel = useRef({ cancelled: false });
  // A network trained for other settings must not be drawn over the new dataset's points (nor its
  // accuracies shown under the new labels): a change stops any training and clears the result, so the
  // figures show the new points alone until the next Train.
  const discardResult = () => {
    cancel.current.cancelled = true;
    setProgress(null);
    setResult(null);
    setSeeds(null);
  };
  const setName = (v: DatasetName) => {
    discardResult();
    setNameParam(v);
  };
  const setBits = (v: '8' | '4' | '2') => {
    discardResult();
    setBitsParam(v);
  };
  const setSeed = (v: number) => {
    discardResult();
    setSeedParam(v);
  };
  const test = useMemo(() => makeDataset(name, 300, seed * 101 + 7), [name, seed]);
  useEffect(() => () => void (cancel.current.cancelled = true), []);
  const b = Number(bits);
  const q = useMemo(() => ({ bits: b, edgeBits: 8 }), [b]);
  const start = async (all: boolean) => {
    cancel.current.cancelled = true;
    const signal = { cancelled: false };
    cancel.current = signal;
    setResult(null);
    setSeeds(null);
    const list = all ? [1, 2, 3, 4, 5] : [seed];
    const rows: { ptq: number; qat: number; float: number }[] = [];
    for (let k = 0; k < list.length; k++) {
      const s = list[k]!;
      let shown = 0;
      const r = await runSliced(
        makeDataset(name, 300, s * 101),
        makeDataset(name, 300, s * 101 + 7),
        b,
        s,
        (p) => {
          // a few progress updates a second are enough
          if (performance.now() - shown > 200) {
            shown = performance.now();
            setProgress((k + p) / list.length);
          }
        },
        signal,
      );
      if (!r) return;
      rows.push({ float: r.floatAccuracy, ptq: r.ptqAccuracy, qat: r.qatAccuracy });
      if (s === seed || !all) setResult(r);
    }
    setProgress(null);
    if (all) setSeeds(rows);
  };
  return (
    <article className="lesson" data-testid="lesson-ptq-qat">
      <h2>5 · PTQ vs QAT</h2>
      <p>
        A network with two hidden layers of 16 tanh units learns the dataset in float. <b>Post-training quantization</b>{' '}
        then rounds its weights and activations to {bits} bits. <b>Quantization-aware training</b> continues training
        with that rounding in the forward pass; the backward pass treats the rounding as the identity (the
        straight-through estimator), so the weights move to where the grid serves them. The first and last layers keep
        8-bit weights in both, as deployments usually do.
      </p>
      <Controls>
        <Choice label="Dataset" value={name} options={DATASETS.map((d) => [d, d] as const)} onChange={setName} />
        <Choice
          label="Bits"
          value={bits}
          options={[
            ['8', '8 bits'],
            ['4', '4 bits'],
            ['2', '2 bits'],
          ]}
          onChange={setBits}
        />
        <label className="lab-choice">
          Seed{' '}
          <input
            aria-label="Seed"
            className="num"
            type="number"
            min={1}
            max={1000}
            value={seed}
            onChange={(e) => setSeed(Math.max(1, Math.round(Number(e.target.value)) || 1))}
          />
        </label>
        <button type="button" className="primary" onClick={() => void start(false)} disabled={progress !== null}>
          Train
        </button>
        <button type="button" onClick={() => void start(true)} disabled={progress !== null}>
          Run 5 seeds
        </button>
      </Controls>
      {progress !== null && (
        <progress data-testid="training-progress" max={1} value={progress}>
          {Math.round(progress * 100)}%
        </progress>
      )}
      <div className="boundaries">
        <Boundary
          net={result?.float ?? null}
          q={null}
          data={test}
          label={`float: ${result ? num(result.floatAccuracy * 100, 3) + '%' : '—'}`}
          testId="boundary-float"
        />
        <Boundary
          net={result?.float ?? null}
          q={q}
          data={test}
          label={`PTQ ${bits} bits: ${result ? num(result.ptqAccuracy * 100, 3) + '%' : '—'}`}
          testId="boundary-ptq"
        />
        <Boundary
          net={result?.qat ?? null}
          q={q}
          data={test}
          label={`QAT ${bits} bits: ${result ? num(result.qatAccuracy * 100, 3) + '%' : '—'}`}
          testId="boundary-qat"
        />
      </div>
      {result && (
        <Figures
          items={[
            {
              id: 'fig-float-acc',
              label: 'float accuracy (test points)',
              value: `${num(result.floatAccuracy * 100, 3)}%`,
            },
            { id: 'fig-ptq-acc', label: `PTQ ${bits}-bit accuracy`, value: `${num(result.ptqAccuracy * 100, 3)}%` },
            { id: 'fig-qat-acc', label: `QAT ${bits}-bit accuracy`, value: `${num(result.qatAccuracy * 100, 3)}%` },
          ]}
        />
      )}
      {seeds && (
        <div data-testid="seed-table">
          <Figures
            items={[
              {
                id: 'fig-median-ptq',
                label: `median PTQ ${bits}-bit over 5 seeds`,
                value: `${num(median(seeds.map((s) => s.ptq)) * 100, 3)}%`,
              },
              {
                id: 'fig-median-qat',
                label: `median QAT ${bits}-bit over 5 seeds`,
                value: `${num(median(seeds.map((s) => s.qat)) * 100, 3)}%`,
              },
            ]}
          />
          <p className="muted small">
            per seed (float / PTQ / QAT):{' '}
            {seeds
              .map((s, k) => `${k + 1}: ${num(s.float * 100, 3)} / ${num(s.ptq * 100, 3)} / ${num(s.qat * 100, 3)}`)
              .join(' · ')}
          </p>
        </div>
      )}
    </article>
  );
}
