/**
 * What runs where, measured: (1) for a set of small models, whether a backend runs each one entirely
 * by itself (session created with CPU fallback disabled, then one run); (2) latency of a float model
 * and its export on one backend: session creation apart, warm-up runs, then the median of at least
 * 10 timed runs. Runs in the worker (onnxruntime-web) and in Node.
 */
import { toErrorInfo } from '../core/errors';
import { materializeSample, type SampleSpec } from '../data/samples';
import { ortWithExternalData } from './modelSession';
import { toOrtFeeds, type OrtModule } from './ort';
import type { Backend, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';
import { median } from '../core/metrics';

export interface LatencyResult {
  readonly backend: Backend;
  readonly createMs: number;
  readonly warmupMs: number;
  readonly medianMs: number;
  readonly runs: number;
}

export interface SpeedRequest {
  readonly type: 'speed';
  readonly id: number;
  readonly float: ArrayBuffer;
  readonly exported: ArrayBuffer | Blob;
  readonly sample: SampleSpec;
  readonly backend: Backend;
  readonly runs: number;
  /** The float model's and the export's external data files, when they keep weights outside the .onnx. */
  readonly floatExternalData?: readonly { readonly path: string; readonly data: Blob }[];
  readonly exportedExternalData?: readonly { readonly path: string; readonly data: Blob }[];
}

export interface ProbeRequest {
  readonly type: 'probe';
  readonly id: number;
  /** A model without a sample is only loaded (session created), not run. */
  readonly models: readonly {
    readonly key: string;
    readonly bytes: ArrayBuffer | Blob;
    readonly sample: SampleSpec | null;
    /** The model's external data files, by the names it records (onnxruntime-web's externalData option). */
    readonly externalData?: readonly { readonly path: string; readonly data: Blob }[];
  }[];
  readonly backend: Backend;
  /** false: let the backend fall back to the CPU (checking that a file loads and runs at all). */
  readonly noFallback?: boolean;
}

export type ProbeStatus = { readonly runs: true } | { readonly runs: false; readonly error: string };

function sessionOptions(backend: Backend, noFallback: boolean): Record<string, unknown> {
  // With CPU fallback disabled, a session that would place any node on the CPU fails to create.
  return {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
    ...(noFallback && backend !== 'wasm' && backend !== 'cpu'
      ? { extra: { session: { disable_cpu_ep_fallback: '1' } } }
      : {}),
  };
}

export async function measureLatency(
  ort: OrtModule,
  bytes: Uint8Array,
  sample: SampleSpec,
  backend: Backend,
  runs: number,
  queue: SerialQueue,
): Promise<LatencyResult> {
  const t0 = performance.now();
  const session = await queue.run(() => ort.InferenceSession.create(bytes, sessionOptions(backend, false) as never));
  const createMs = performance.now() - t0;
  try {
    const feeds = toOrtFeeds(ort, materializeSample(sample));
    const w0 = performance.now();
    for (let i = 0; i < 2; i++) await queue.run(() => session.run(feeds));
    const warmupMs = performance.now() - w0;
    const times: number[] = [];
    for (let i = 0; i < Math.max(10, runs); i++) {
      const t = performance.now();
      await queue.run(() => session.run(feeds));
      times.push(performance.now() - t);
    }
    return { backend, createMs, warmupMs, medianMs: median(times), runs: times.length };
  } finally {
    await queue.run(() => session.release());
  }
}

export async function probeModel(
  ort: OrtModule,
  bytes: Uint8Array,
  sample: SampleSpec | null,
  backend: Backend,
  queue: SerialQueue,
  noFallback = true,
  externalData?: readonly { readonly path: string; readonly data: Blob }[],
): Promise<ProbeStatus> {
  try {
    const options = { ...sessionOptions(backend, noFallback), ...(externalData ? { externalData } : {}) };
    const session = await queue.run(() => ort.InferenceSession.create(bytes, options as never));
    try {
      if (sample) await queue.run(() => session.run(toOrtFeeds(ort, materializeSample(sample))));
    } finally {
      await queue.run(() => session.release());
    }
    return { runs: true };
  } catch (e) {
    return { runs: false, error: toErrorInfo(e).message.slice(0, 300) };
  }
}

/** A model's bytes where they run: a Blob (the page's export, in parts) is read once, here. */
export async function modelBytes(b: ArrayBuffer | Blob): Promise<Uint8Array> {
  return new Uint8Array(b instanceof Blob ? await b.arrayBuffer() : b);
}

export async function runSpeedJob(
  ort: OrtModule,
  req: SpeedRequest,
  queue: SerialQueue,
  emit: (m: WorkerReply) => void,
): Promise<void> {
  try {
    // a model with external data: its session gets the data files (runtime/modelSession.ts)
    const measure = (bytes: Uint8Array, externalData: SpeedRequest['floatExternalData']) =>
      measureLatency(ortWithExternalData(ort, externalData), bytes, req.sample, req.backend, req.runs, queue);
    const float = await measure(new Uint8Array(req.float), req.floatExternalData);
    const exported = await measure(await modelBytes(req.exported), req.exportedExternalData);
    emit({ type: 'speed', id: req.id, float, exported });
  } catch (e) {
    emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}

export async function runProbeJob(
  ort: OrtModule,
  req: ProbeRequest,
  queue: SerialQueue,
  emit: (m: WorkerReply) => void,
): Promise<void> {
  const results: Record<string, ProbeStatus> = {};
  for (const m of req.models)
    results[m.key] = await probeModel(
      ort,
      await modelBytes(m.bytes),
      m.sample,
      req.backend,
      queue,
      req.noFallback ?? true,
      m.externalData,
    );
  emit({ type: 'probed', id: req.id, backend: req.backend, results });
}
