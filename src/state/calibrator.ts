import type { GuardVerdict } from '../core/guard';
import type { CalibrationHandlers, CalibrationResult, ProbeResult, SpeedResult } from '../runtime/client';
import type {
  CalibrateRequest,
  CompareRequest,
  GuardRequest,
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

/** How the store reaches the calibration worker (injected, so tests can drive a real runtime in Node). */
export interface Calibrator {
  start(
    req: Omit<CalibrateRequest, 'type' | 'id'>,
    handlers: CalibrationHandlers,
  ): { id: number; result: Promise<CalibrationResult> };
  compare(req: Omit<CompareRequest, 'type' | 'id'>): { id: number; result: Promise<readonly ComparedSample[]> };
  /** Latency of float and exported models on one backend. */
  speed?(req: Omit<SpeedRequest, 'type' | 'id'>): { id: number; result: Promise<SpeedResult> };
  /** Load (and run, given a sample) models on a backend: the check every export passes before it is offered. */
  probe?(req: Omit<ProbeRequest, 'type' | 'id'>): { id: number; result: Promise<ProbeResult> };
  /** The guard rail: float against an export on samples, judged against the default target. */
  guard?(req: Omit<GuardRequest, 'type' | 'id'>): { id: number; result: Promise<GuardVerdict> };
  /** GPTQ/AdaRound: weights rounded from the layers' inputs on samples (runtime/roundJob.ts). */
  round?(
    req: Omit<RoundRequest, 'type' | 'id'>,
    handlers?: CalibrationHandlers,
  ): { id: number; result: Promise<RoundingSummary> };
  /** Equalization, SmoothQuant, bias correction (runtime/algorithmsJob.ts). */
  algorithms?(
    req: Omit<AlgorithmsRequest, 'type' | 'id'>,
    handlers?: CalibrationHandlers,
  ): { id: number; result: Promise<AlgorithmsResult> };
  /** Tune: the command line's search, in the worker (runtime/tuneJob.ts). */
  tune?(
    req: Omit<TuneRequest, 'type' | 'id'>,
    handlers?: CalibrationHandlers,
  ): { id: number; result: Promise<TuneSummary> };
  /** The per-tensor debugger: float against a static QDQ file, streamed over samples. */
  debug?(
    req: Omit<DebugRequest, 'type' | 'id'>,
    handlers?: CalibrationHandlers,
  ): { id: number; result: Promise<DebugResult> };
  /** Sensitivity: every group quantized alone and kept float alone, over one switchboard session. */
  sensitivity?(
    req: Omit<SensitivityRequest, 'type' | 'id'>,
    handlers?: CalibrationHandlers,
  ): { id: number; result: Promise<SensitivityReport> };
  /** Read, parse and prepare a model's files (the worker: the page's thread stays free). */
  load?(
    req: Omit<LoadRequest, 'type' | 'id'>,
    handlers?: CalibrationHandlers,
  ): { id: number; result: Promise<PreparedModelInfo> };
  /** Build an export's file (the worker), returned as a Blob with its reports. */
  exportFile?(req: Omit<ExportRequest, 'type' | 'id'>): { id: number; result: Promise<Omit<ExportFile, 'parts'>> };
  cancel(id: number): void;
}
