/**
 * Lesson 3, granularity: one scale for a whole weight, one per output channel, or one per block of
 * consecutive values. A convolution whose channels differ in size (or one channel with an outlier)
 * shows why per-tensor int8 can ruin a layer and per-channel rescues it; per-block goes further at 4 bits.
 */
import { useMemo } from 'react';
import { sqnr } from '../../core/metrics';
import { mulberry32, normalSampler } from '../../core/random';
import { channelRanges } from '../../core/weights';
import { fakeQuantizeWeight } from '../../core/weightStats';
import { readFloat32 } from '../../onnx';
import { useApp } from '../../ui/useApp';
import { Choice, Controls, Figures, num, Toggle } from '../controls';
import { useBoolParam, useChoiceParam, useStringParam } from '../url';

const W = 760;

/** A built-in 3x3 convolution weight [32, 16, 3, 3]: channel sizes spread over two decades, and one outlier. */
export function builtInConvWeight(outlier: boolean): { data: Float32Array; shape: number[]; name: string } {
  const shape = [32, 16, 3, 3];
  const normal = normalSampler(mulberry32(11));
  const perChannel = 16 * 9;
  const data = new Float32Array(32 * perChannel);
  for (let c = 0; c < 32; c++) {
    const size = 0.02 * 10 ** (2 * (c / 31)) * (0.6 + 0.4 * Math.abs(normal()));
    for (let k = 0; k < perChannel; k++) data[c * perChannel + k] = normal() * size;
  }
  if (outlier) data[5 * perChannel + 7] = 6;
  return {
    data,
    shape,
    name: outlier ? 'built-in conv [32, 16, 3, 3] with an outlier' : 'built-in conv [32, 16, 3, 3]',
  };
}

export function GranularityLesson() {
  const [source, setSource] = useStringParam('weight', '');
  const [outlier, setOutlier] = useBoolParam('outlier', true);
  const [bits, setBits] = useChoiceParam<'8' | '4'>('bits', ['8', '4'], '8');
  const [block, setBlock] = useChoiceParam<'16' | '32' | '64' | '128'>('block', ['16', '32', '64', '128'], '32');
  const model = useApp((s) => s.model);
  const weighted = useMemo(() => model?.plan.nodes.filter((n) => n.weight && n.opType === 'Conv') ?? [], [model]);
  const w = useMemo(() => {
    const node = weighted.find((n) => n.name === source);
    const t = node && model ? model.prepared.graph!.initializer.find((i) => i.name === node.weight!.tensor) : undefined;
    return t
      ? { data: readFloat32(t), shape: t.dims.map(Number), name: `${node!.name} (${t.name})` }
      : builtInConvWeight(outlier);
  }, [source, outlier, model, weighted]);
  const b = Number(bits);
  const results = useMemo(() => {
    const channels = w.shape[0]!;
    const per = w.data.length / channels;
    // the whole weight's SQNR, and its worst output channel's (a channel rounded to all zeros: 0 dB)
    const run = (g: Parameters<typeof fakeQuantizeWeight>[3]) => {
      const q = fakeQuantizeWeight(w.data, w.shape, b, g);
      let worst = Infinity;
      for (let c = 0; c < channels; c++)
        worst = Math.min(worst, sqnr(w.data.subarray(c * per, (c + 1) * per), q.subarray(c * per, (c + 1) * per)));
      return { all: sqnr(w.data, q), worst };
    };
    return {
      tensor: run({ kind: 'tensor' }),
      channel: run({ kind: 'channel', axis: 0 }),
      block: run({ kind: 'block', axis: 0, blockSize: Number(block) }),
    };
  }, [w, b, block]);
  const { mins, maxs } = channelRanges(w.data, w.shape, 0);
  let amax = 0;
  for (let c = 0; c < mins.length; c++) amax = Math.max(amax, -mins[c]!, maxs[c]!);
  const Y = (v: number) => 105 - (v / (amax || 1)) * 80;
  const bw = (W - 60) / mins.length;
  return (
    <article className="lesson" data-testid="lesson-granularity">
      <h2>3 · Granularity</h2>
      <p>
        A per-tensor scale must cover the largest weight of all channels, so small channels get only a few of the codes
        (or none: they round to zero). Per-channel scales fit each output channel; per-block scales fit each block of{' '}
        {block} values, which is what 4-bit weight formats (MatMulNBits, GPTQ, AWQ) use.
      </p>
      <Controls>
        <Choice
          label="Weight"
          value={source}
          options={[
            ['', 'built-in convolution'],
            ...weighted.map((n) => [n.name, `${n.name} (loaded model)`] as const),
          ]}
          onChange={setSource}
        />
        {!source && <Toggle label="One outlier weight" value={outlier} onChange={setOutlier} />}
        <Choice
          label="Bits"
          value={bits}
          options={[
            ['8', 'int8'],
            ['4', 'int4'],
          ]}
          onChange={setBits}
        />
        <Choice
          label="Block size"
          value={block}
          options={[
            ['16', '16'],
            ['32', '32'],
            ['64', '64'],
            ['128', '128'],
          ]}
          onChange={setBlock}
        />
      </Controls>
      <svg className="lab-figure" viewBox={`0 0 ${W} 200`} data-testid="granularity-figure">
        {Array.from(mins, (mn, c) => (
          <rect
            key={c}
            x={40 + c * bw}
            y={Y(maxs[c]!)}
            width={Math.max(1, bw - 1)}
            height={Math.max(1, Y(mn) - Y(maxs[c]!))}
            fill="#6f8cff"
          />
        ))}
        <line x1={40} x2={W - 20} y1={Y(amax)} y2={Y(amax)} stroke="#d1495b" strokeWidth={2} />
        <line x1={40} x2={W - 20} y1={Y(-amax)} y2={Y(-amax)} stroke="#d1495b" strokeWidth={2} />
        <line x1={40} x2={W - 20} y1={Y(0)} y2={Y(0)} stroke="#999" />
        <text x={W - 22} y={Y(amax) - 4} fontSize={11} textAnchor="end" fill="#d1495b">
          the per-tensor range ±{num(amax, 3)}
        </text>
        <text x={40} y={12} fontSize={11} fill="#5a6478">
          each output channel's min…max ({mins.length} channels) — {w.name}
        </text>
      </svg>
      <Figures
        items={[
          {
            id: 'fig-sqnr-tensor',
            label: `per tensor, int${bits}: SQNR / worst channel (dB)`,
            value: `${num(results.tensor.all, 3)} / ${num(results.tensor.worst, 3)}`,
          },
          {
            id: 'fig-sqnr-channel',
            label: `per channel, int${bits}: SQNR / worst channel (dB)`,
            value: `${num(results.channel.all, 3)} / ${num(results.channel.worst, 3)}`,
          },
          {
            id: 'fig-sqnr-block',
            label: `per block of ${block}, int${bits}: SQNR / worst channel (dB)`,
            value: `${num(results.block.all, 3)} / ${num(results.block.worst, 3)}`,
          },
          {
            id: 'fig-scales',
            label: 'scales stored',
            value: `1 · ${mins.length} · ${mins.length * Math.ceil(w.data.length / mins.length / Number(block))}`,
          },
        ]}
      />
    </article>
  );
}
