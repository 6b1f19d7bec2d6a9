/**
 * The page's side of the worker protocol: one start function per job, each sending its request
 * through the worker channel (workerChannel.ts, which creates the workers and routes replies).
 */
import type { GuardVerdict } from '../core/guard';
import type { StatsMap } from './calibrate';
import { sampleBuffers } from '../data/samples';
import type { ComparedSample } from './compareJob';
import type { RoundRequest, RoundingSummary } from './roundJob';
import type { AlgorithmsRequest, AlgorithmsResult } from './algorithmsJob';
import type { TuneRequest, TuneSummary } from './tuneJob';
import type { DebugResult } from './debug';
import type { DebugRequest } from './debugJob';
import type { SensitivityReport, SensitivityRequest } from './sensitivityJob';
import type { ExportFile, ExportRequest, LoadRequest, PreparedModelInfo } from './modelJob';
import {
  type Backend,
  type CalibrateRequest,
  type CompareRequest,
  type GuardRequest,
  type OutputsRequest,
  type SampleOutput,
  type LatencyResult,
  type ProbeRequest,
  type ProbeStatus,
  type SessionInfo,
  type SpeedRequest,
  type TfliteExportRequest,
} from './protocol';
import type { TfliteFile } from './tfliteExportJob';
import { request, type CalibrationHandlers } from './workerChannel';

export { cancelCalibration, type CalibrationHandlers } from './workerChannel';

export interface CalibrationResult {
  readonly stats: StatsMap;
  readonly session: SessionInfo;
  readonly ms: number;
  readonly inferenceMs: number;
}

export interface SpeedResult {
  readonly float: LatencyResult;
  readonly exported: LatencyResult;
}

export interface ProbeResult {
  readonly backend: Backend;
  readonly results: Readonly<Record<string, ProbeStatus>>;
}

export function startCalibration(
  req: Omit<CalibrateRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<CalibrationResult> } {
  return request(
    'calibrate',
    (id) => ({ type: 'calibrate', id, ...req }),
    [req.model, ...sampleBuffers(req.samples)],
    (m) => ({ stats: m.stats, session: m.session, ms: m.ms, inferenceMs: m.inferenceMs }),
    handlers,
  );
}

export function startComparison(
  req: Omit<CompareRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<readonly ComparedSample[]> } {
  return request(
    'compare',
    (id) => ({ type: 'compare', id, ...req }),
    [req.float, ...(req.quantized instanceof Blob ? [] : [req.quantized]), ...sampleBuffers(req.samples)],
    (m) => m.results,
    handlers,
  );
}

/** Latency of the float model and its export on one backend, measured in the worker. */
export function startSpeed(req: Omit<SpeedRequest, 'type' | 'id'>): { id: number; result: Promise<SpeedResult> } {
  return request(
    'speed',
    (id) => ({ type: 'speed', id, ...req }),
    [req.float, ...(req.exported instanceof Blob ? [] : [req.exported]), ...sampleBuffers([req.sample])],
    (m) => ({ float: m.float, exported: m.exported }),
  );
}

/** Whether a backend runs each of a set of small models by itself (the support table's probe). */
export function startProbe(req: Omit<ProbeRequest, 'type' | 'id'>): { id: number; result: Promise<ProbeResult> } {
  return request(
    'probe',
    (id) => ({ type: 'probe', id, ...req }),
    // Blobs travel by reference (not transferable, and not copied)
    req.models.flatMap((m) => [
      ...(m.bytes instanceof Blob ? [] : [m.bytes]),
      ...(m.sample ? sampleBuffers([m.sample]) : []),
    ]),
    (m) => ({ backend: m.backend, results: m.results }),
  );
}

/** The guard rail: float against the export on samples, in the worker. */
export function startGuard(req: Omit<GuardRequest, 'type' | 'id'>): { id: number; result: Promise<GuardVerdict> } {
  return request(
    'guard',
    (id) => ({ type: 'guard', id, ...req }),
    [req.float, ...(req.exported instanceof Blob ? [] : [req.exported]), ...sampleBuffers(req.samples)],
    (m) => m.verdict,
  );
}

/** One model's output on each sample, in the worker (the reference for a file the page runs itself). */
export function startOutputs(req: Omit<OutputsRequest, 'type' | 'id'>): {
  id: number;
  result: Promise<readonly SampleOutput[]>;
} {
  return request(
    'outputs',
    (id) => ({ type: 'outputs', id, ...req }),
    [req.model, ...sampleBuffers(req.samples)],
    (m) => m.outputs,
  );
}

/** GPTQ/AdaRound in the worker: rounded weights by node, with progress and cancel (cancelCalibration). */
export function startRounding(
  req: Omit<RoundRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<RoundingSummary> } {
  return request(
    'round',
    (id) => ({ type: 'round', id, ...req }),
    [req.model, ...sampleBuffers(req.samples)],
    (m) => m.summary,
    handlers,
  );
}

/** Tune in the worker (runtime/tuneJob.ts: the command line's engine), with progress and cancel (cancelCalibration). */
export function startTune(
  req: Omit<TuneRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<TuneSummary> } {
  return request(
    'tune',
    (id) => ({ type: 'tune', id, ...req }),
    [req.model, ...sampleBuffers(req.heldOut)],
    (m) => m.summary,
    handlers,
  );
}

/**
 * Read, parse and prepare a model in the worker: the files go as Blobs (never read on the page's
 * thread), the prepared model comes back with its buffers transferred. Stages arrive as progress.
 */
export function startModelLoad(
  req: Omit<LoadRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<PreparedModelInfo> } {
  return request(
    'load',
    (id) => ({ type: 'load', id, ...req }),
    [],
    (m) => m.model,
    handlers,
  );
}

/** Equalization, SmoothQuant, bias correction in the worker (runtime/algorithmsJob.ts), with progress and cancel. */
export function startAlgorithms(
  req: Omit<AlgorithmsRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<AlgorithmsResult> } {
  return request(
    'algorithms',
    (id) => ({ type: 'algorithms', id, ...req }),
    [req.model, ...(req.exported ? [req.exported] : []), ...sampleBuffers(req.samples)],
    (m) => m.result,
    handlers,
  );
}

/** The per-tensor debugger in the worker: float against the export, streamed over samples (cancelCalibration stops it). */
export function startDebug(
  req: Omit<DebugRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<DebugResult> } {
  return request(
    'debug',
    (id) => ({ type: 'debug', id, ...req }),
    [
      req.float,
      ...(req.quantized && !(req.quantized instanceof Blob) ? [req.quantized] : []),
      ...sampleBuffers(req.samples),
    ],
    (m) => m.result,
    handlers,
  );
}

/** Sensitivity in the worker: every group quantized alone and kept float alone (cancelCalibration stops it). */
export function startSensitivity(
  req: Omit<SensitivityRequest, 'type' | 'id'>,
  handlers: CalibrationHandlers = {},
): { id: number; result: Promise<SensitivityReport> } {
  return request(
    'sensitivity',
    (id) => ({ type: 'sensitivity', id, ...req }),
    [req.model, ...sampleBuffers(req.samples)],
    (m) => m.report,
    handlers,
  );
}

/** Build an export's file in the worker: it comes back as a Blob of its parts, with its reports. */
/** A .tflite file built in the model worker, from the model it keeps prepared. */
export function startTfliteExport(req: Omit<TfliteExportRequest, 'type' | 'id'>): {
  id: number;
  result: Promise<TfliteFile>;
} {
  return request(
    'tfliteExport',
    (id) => ({ type: 'tfliteExport', id, ...req }),
    [],
    (m) => m.file,
  );
}

export function startExportFile(req: Omit<ExportRequest, 'type' | 'id'>): {
  id: number;
  result: Promise<Omit<ExportFile, 'parts'>>;
} {
  return request(
    'export',
    (id) => ({ type: 'export', id, ...req }),
    [],
    (m) => m.file,
  );
}
