/**
 * The weight-rounding job as the page's worker runs it (and the local calibrator in Node): the
 * prepared model and samples in, GPTQ/AdaRound-rounded weights out (runtime/weightRounding.ts, the
 * engine the command line calls too), with progress and cancel. The typed arrays travel transferred.
 */
import type { RoundedWeight } from '../core/algorithms/gptq';
import type { QuantConfig } from '../core/config';
import { toErrorInfo } from '../core/errors';
import { sampleSource, type SampleSpec } from '../data/samples';
import { decodeModel } from '../onnx';
import type { OrtModule } from './ort';
import type { Backend, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';
import { roundWeights, type RoundedLayer } from './weightRounding';

export interface RoundRequest {
  readonly type: 'round';
  readonly id: number;
  /** The prepared model's bytes. */
  readonly model: ArrayBuffer;
  readonly config: QuantConfig;
  readonly samples: readonly SampleSpec[];
  readonly backend: Backend;
}

/** A rounded weight by node name, as it crosses the worker boundary. */
export interface RoundedPayload extends RoundedWeight {
  readonly node: string;
}

export interface RoundingSummary {
  readonly rounded: readonly RoundedPayload[];
  readonly layers: readonly RoundedLayer[];
  readonly momentsMBps: number;
}

export function roundedMap(s: RoundingSummary): Map<string, RoundedWeight> {
  return new Map(s.rounded.map((r) => [r.node, r]));
}

export async function runRoundJob(
  ort: OrtModule,
  req: RoundRequest,
  queue: SerialQueue,
  signal: AbortSignal,
  emit: (m: WorkerReply, transfer?: Transferable[]) => void,
): Promise<void> {
  try {
    const model = decodeModel(new Uint8Array(req.model), 'the prepared model');
    const r = await queue.run(() =>
      roundWeights(ort, model, req.config, sampleSource(req.samples), {
        signal,
        onProgress: (p) =>
          emit({
            type: 'progress',
            id: req.id,
            done: p.phase === 'moments' ? p.done : req.samples.length + p.done,
            total: req.samples.length + (p.phase === 'moments' ? 0 : p.total),
          }),
      }),
    );
    const rounded = [...r.rounded].map(([node, w]) => ({ node, ...w }));
    emit({ type: 'rounded', id: req.id, summary: { rounded, layers: r.layers, momentsMBps: r.momentsMBps } }, [
      ...rounded.flatMap((w) => [w.q.buffer, w.scales.buffer, w.zeroPoints.buffer] as ArrayBuffer[]),
    ]);
  } catch (e) {
    emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
