import type { GuardVerdict } from '../core/guard';
import type { CalibrationHandlers, CalibrationResult, ProbeResult, SpeedResult } from '../runtime/client';
import type {
  CalibrateRequest,
  CompareRequest,
  GuardRequest,
  OutputsRequest,
  SampleOutput,
  ProbeRequest,
  RoundRequest,
  RoundingSummary,
  SpeedRequest,
  DebugRequest,
  SensitivityRequest,
} from '../runtime/protocol';
import type { ComparedSample } from '../runtime/compareJob';
import type { TuneRequest, TuneSummary } from '../runtime/tuneJob';
import type { AlgorithmsRequest, AlgorithmsResult } from '../runtime/algorithmsJob';
import type { DebugResult } from '../runtime/debug';
import type { SensitivityReport } from '../runtime/sensitivityJob';
import type { ExportFile, ExportRequest, LoadRequest, PreparedModelInfo } from '../runtime/modelJob';
import type { TfliteExportRequest, TfliteFile } from '../runtime/tfliteExportJob';

/** A request as the store sends it: the worker's message without the type and id the client adds. */
type JobRequest<R> = Omit<R, 'type' | 'id'>;
/** A job started in the worker: its id (to cancel it) and its answer. */
type Job<T> = { id: number; result: Promise<T> };
/** A job that reports progress on the way (CalibrationHandlers). */
type JobWithProgress<R, T> = (req: JobRequest<R>, handlers?: CalibrationHandlers) => Job<T>;

/** How the store reaches the calibration worker (injected, so tests can drive a real runtime in Node). */
export interface Calibrator {
  start(req: JobRequest<CalibrateRequest>, handlers: CalibrationHandlers): Job<CalibrationResult>;
  compare(req: JobRequest<CompareRequest>): Job<readonly ComparedSample[]>;
  /** Latency of float and exported models on one backend. */
  speed?(req: JobRequest<SpeedRequest>): Job<SpeedResult>;
  /** Load (and run, given a sample) models on a backend: the check every export passes before it is offered. */
  probe?(req: JobRequest<ProbeRequest>): Job<ProbeResult>;
  /** The guard rail: float against an export on samples, judged against the default target. */
  guard?(req: JobRequest<GuardRequest>): Job<GuardVerdict>;
  /** One model's output on each sample (the reference for a .tflite the page runs in TFLite's interpreter). */
  outputs?(req: JobRequest<OutputsRequest>): Job<readonly SampleOutput[]>;
  /** GPTQ/AdaRound: weights rounded from the layers' inputs on samples (runtime/roundJob.ts). */
  round?: JobWithProgress<RoundRequest, RoundingSummary>;
  /** Equalization, SmoothQuant, bias correction (runtime/algorithmsJob.ts). */
  algorithms?: JobWithProgress<AlgorithmsRequest, AlgorithmsResult>;
  /** Tune: the command line's search, in the worker (runtime/tuneJob.ts). */
  tune?: JobWithProgress<TuneRequest, TuneSummary>;
  /** The per-tensor debugger: float against a static QDQ file, streamed over samples. */
  debug?: JobWithProgress<DebugRequest, DebugResult>;
  /** Sensitivity: every group quantized alone and kept float alone, over one switchboard session. */
  sensitivity?: JobWithProgress<SensitivityRequest, SensitivityReport>;
  /** Read, parse and prepare a model's files (the worker: the page's thread stays free). */
  load?: JobWithProgress<LoadRequest, PreparedModelInfo>;
  /** Build an export's file (the worker), returned as a Blob with its reports. */
  exportFile?(req: JobRequest<ExportRequest>): Job<Omit<ExportFile, 'parts'>>;
  /** Build a .tflite file (the model worker), from the model it keeps prepared. */
  tfliteExport?(req: JobRequest<TfliteExportRequest>): Job<TfliteFile>;
  cancel(id: number): void;
}
