/**
 * The typed message protocol between the page and the calibration worker. Every request carries
 * an id; every reply names the id it answers. Buffers are transferred, never copied.
 */
import type { ErrorInfo } from '../core/errors';
import type { Chain, GuardTarget, GuardVerdict } from '../core/guard';
import type { CalibrationMode, StatsMap } from './calibrate';
import type { SampleSpec } from '../data/samples';
import type { ComparedSample } from './compareJob';
import type { LatencyResult, ProbeRequest, ProbeStatus, SpeedRequest } from './speedJob';
import type { RoundRequest, RoundingSummary } from './roundJob';
import type { AlgorithmsRequest, AlgorithmsResult } from './algorithmsJob';
import type { TuneProgress, TuneRequest, TuneSummary } from './tuneJob';
import type { DebugRequest, DebuggedReply } from './debugJob';
import type { SensitivityReply, SensitivityRequest } from './sensitivityJob';
import type { ExportedReply, ExportRequest, LoadedReply, LoadRequest } from './modelJob';
import type { TfliteExportedReply, TfliteExportRequest } from './tfliteExportJob';

export type { TuneProgress, TuneRequest, TuneSummary } from './tuneJob';
export type { LatencyResult, ProbeRequest, ProbeStatus, SpeedRequest } from './speedJob';
export type { RoundRequest, RoundingSummary } from './roundJob';
export type { AlgorithmsRequest, AlgorithmsResult } from './algorithmsJob';
export type { DebugRequest, DebuggedReply } from './debugJob';
export type { SensitivityReply, SensitivityRequest } from './sensitivityJob';
export type { ExportedReply, ExportRequest, LoadedReply, LoadRequest } from './modelJob';
export type { TfliteExportedReply, TfliteExportRequest } from './tfliteExportJob';

/** Named as onnxruntime's execution providers: wasm, webgpu and webnn are onnxruntime-web's; cpu is onnxruntime-node's (CLI and tests). */
export type Backend = 'wasm' | 'webgpu' | 'webnn' | 'cpu';

/**
 * A model's external data file for an onnxruntime-web session (its `externalData` option): `path` is
 * the location the .onnx records, `data` the user's file, read by the runtime itself.
 */
export interface ExternalDataFile {
  readonly path: string;
  readonly data: Blob;
}

export interface CalibrateRequest {
  readonly type: 'calibrate';
  readonly id: number;
  /** The prepared model; the worker adds the tensors to calibrate as outputs. */
  readonly model: ArrayBuffer;
  readonly tensors: readonly string[];
  readonly samples: readonly SampleSpec[];
  readonly backend: Backend;
  readonly bins: number;
  /** Default streaming (one pass); onnxruntime-exact runs two. */
  readonly mode?: CalibrationMode;
  /** Keep PyTorch HistogramObserver's histograms too (the PyTorch presets). */
  readonly torchHistograms?: boolean;
  /** Recurrent pairs fed back in streaming order. */
  readonly chain?: readonly Chain[];
  /** Subsets of `tensors`, one session each, when every tensor at once would not fit (runtime/pageMemory.ts). */
  readonly passes?: readonly (readonly string[])[];
  /** WebGPU: false folds the statistics on the CPU (activations read back) instead of on the GPU. */
  readonly gpuFold?: boolean;
  /**
   * WASM: fold in the nested fold worker even where onnxruntime's threads take every core (by default
   * the fold stays in the calibrating thread there: runtime/foldWorker.ts, foldWorkerUseless).
   */
  readonly foldWorkerBesideThreads?: boolean;
  /** The model's external data files, when it keeps its weights outside the .onnx. */
  readonly externalData?: readonly ExternalDataFile[];
}

/** The guard rail: the float model and an export on the same samples, judged against a target. */
export interface GuardRequest {
  readonly type: 'guard';
  readonly id: number;
  readonly float: ArrayBuffer;
  readonly exported: ArrayBuffer | Blob;
  /** The float model's and the export's external data files, when they keep weights outside the .onnx. */
  readonly floatExternalData?: readonly ExternalDataFile[];
  readonly exportedExternalData?: readonly ExternalDataFile[];
  readonly samples: readonly SampleSpec[];
  readonly backend: Backend;
  readonly chain?: readonly Chain[];
  readonly target?: GuardTarget;
  /** Where the samples came from, in words. */
  readonly source: string;
}

/**
 * One model's named output on each of a list of samples (the float model's, against which the page
 * checks a file it runs itself: a .tflite in TFLite's interpreter, state/tfliteGuard.ts).
 */
export interface OutputsRequest {
  readonly type: 'outputs';
  readonly id: number;
  readonly model: ArrayBuffer;
  readonly externalData?: readonly ExternalDataFile[];
  readonly samples: readonly SampleSpec[];
  readonly backend: Backend;
  readonly output: string;
  /** Send back each sample's float32 inputs as fed (built here: the page never decodes the images). */
  readonly withInputs?: boolean;
}

/** One sample's output (float32), and its float32 inputs as fed when asked for. */
export interface SampleOutput {
  readonly dims: readonly number[];
  readonly data: Float32Array;
  readonly inputs?: Readonly<Record<string, { readonly dims: readonly number[]; readonly data: Float32Array }>>;
}

export interface CompareRequest {
  readonly type: 'compare';
  readonly id: number;
  readonly float: ArrayBuffer;
  /** The export: a Blob of its parts (never concatenated on the page) or bytes. */
  readonly quantized: ArrayBuffer | Blob;
  /** The float model's and the export's external data files, when they keep weights outside the .onnx. */
  readonly floatExternalData?: readonly ExternalDataFile[];
  readonly quantizedExternalData?: readonly ExternalDataFile[];
  readonly samples: readonly SampleSpec[];
  readonly backend: Backend;
}

export interface CancelRequest {
  readonly type: 'cancel';
  readonly id: number;
}

export type WorkerRequest =
  | CalibrateRequest
  | CompareRequest
  | CancelRequest
  | SpeedRequest
  | ProbeRequest
  | GuardRequest
  | OutputsRequest
  | RoundRequest
  | TuneRequest
  | AlgorithmsRequest
  | DebugRequest
  | SensitivityRequest
  | LoadRequest
  | ExportRequest
  | TfliteExportRequest;

/** What the session really runs with, as the worker sees it. */
export interface SessionInfo {
  readonly backend: Backend;
  readonly numThreads: number;
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
  /** On WebGPU: where calibration folded its statistics (on the GPU, or on the CPU and why). */
  readonly statisticsFold?: string;
}

export interface StartedReply {
  readonly type: 'started';
  readonly id: number;
  readonly session: SessionInfo;
}
export interface ProgressReply {
  readonly type: 'progress';
  readonly id: number;
  readonly done: number;
  readonly total: number;
  /** A tuning run's phase, trials so far and last metric. */
  readonly tune?: TuneProgress;
  /** What is under way, when a job has stages (loading: reading, parsing, preparing). */
  readonly stage?: string;
}
export interface CalibrationReply {
  readonly type: 'result';
  readonly id: number;
  readonly stats: StatsMap;
  readonly session: SessionInfo;
  readonly ms: number;
  readonly inferenceMs: number;
}
export interface ComparedReply {
  readonly type: 'compared';
  readonly id: number;
  readonly results: readonly ComparedSample[];
}
export interface CancelledReply {
  readonly type: 'cancelled';
  readonly id: number;
}
export interface GuardedReply {
  readonly type: 'guarded';
  readonly id: number;
  readonly verdict: GuardVerdict;
}
export interface OutputsReply {
  readonly type: 'outputsDone';
  readonly id: number;
  readonly outputs: readonly SampleOutput[];
}
export interface RoundedReply {
  readonly type: 'rounded';
  readonly id: number;
  readonly summary: RoundingSummary;
}
export interface SpeedReply {
  readonly type: 'speed';
  readonly id: number;
  readonly float: LatencyResult;
  readonly exported: LatencyResult;
}
export interface ProbedReply {
  readonly type: 'probed';
  readonly id: number;
  readonly backend: Backend;
  readonly results: Readonly<Record<string, ProbeStatus>>;
}
export interface TunedReply {
  readonly type: 'tuned';
  readonly id: number;
  readonly summary: TuneSummary;
}
export interface AlgorithmsReply {
  readonly type: 'algorithmsDone';
  readonly id: number;
  readonly result: AlgorithmsResult;
}
export interface ErrorReply {
  readonly type: 'error';
  readonly id: number;
  readonly error: ErrorInfo;
}

/**
 * The reply that completes each kind of request, keyed by the request's `type`: the client reads a
 * request's answer through this map instead of casting (onnxruntime-web's proxy protocol does the same,
 * js/web/lib/wasm/proxy-messages.ts, where each message type fixes its `in`/`out` payloads). Besides its
 * own reply, any request may get 'started' and 'progress' on the way, and 'cancelled' or 'error' instead.
 */
export interface ReplyByRequest {
  readonly calibrate: CalibrationReply;
  readonly compare: ComparedReply;
  readonly speed: SpeedReply;
  readonly probe: ProbedReply;
  readonly guard: GuardedReply;
  readonly outputs: OutputsReply;
  readonly round: RoundedReply;
  readonly tune: TunedReply;
  readonly algorithms: AlgorithmsReply;
  readonly debug: DebuggedReply;
  readonly sensitivity: SensitivityReply;
  readonly load: LoadedReply;
  readonly export: ExportedReply;
  readonly tfliteExport: TfliteExportedReply;
}
export type JobKind = keyof ReplyByRequest;
export type JobReply = ReplyByRequest[JobKind];
/** The request of one kind, as the page sends it. */
export type RequestOf<K extends JobKind> = Extract<WorkerRequest, { readonly type: K }>;

/** The `type` of the reply that completes each kind of request (checked against ReplyByRequest). */
export const REPLY_TYPE: { readonly [K in JobKind]: ReplyByRequest[K]['type'] } = {
  calibrate: 'result',
  compare: 'compared',
  speed: 'speed',
  probe: 'probed',
  guard: 'guarded',
  outputs: 'outputsDone',
  round: 'rounded',
  tune: 'tuned',
  algorithms: 'algorithmsDone',
  debug: 'debugged',
  sensitivity: 'sensitivity-ranked',
  load: 'loaded',
  export: 'exported',
  tfliteExport: 'tfliteExported',
};

/** Whether a completing reply answers a request of this kind: the narrowing the client relies on. */
export function isReplyTo<K extends JobKind>(kind: K, reply: JobReply): reply is ReplyByRequest[K] {
  return reply.type === REPLY_TYPE[kind];
}

export type WorkerReply = StartedReply | ProgressReply | JobReply | CancelledReply | ErrorReply;

/** Progress is sent at most this often (plus the first and last step). */
export const PROGRESS_INTERVAL_MS = 100;
