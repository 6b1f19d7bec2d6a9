/**
 * The calibration service without a worker, for Node (tests, CLI): same requests, same replies,
 * same cancellation semantics as the page's worker client, over any OrtModule.
 */
import { QuantscopeError } from '../core/errors';
import type { GuardVerdict } from '../core/guard';
import { runGuardJob } from './guardRun';
import { runOutputsJob } from './outputsJob';
import { runCalibrationJob } from './calibrationJob';
import type { CalibrationHandlers, CalibrationResult, ProbeResult, SpeedResult } from './client';
import { runProbeJob, runSpeedJob } from './speedJob';
import { runRoundJob, type RoundRequest, type RoundingSummary } from './roundJob';
import type { OrtModule } from './ort';
import type {
  CalibrateRequest,
  CompareRequest,
  GuardRequest,
  OutputsRequest,
  ProbeRequest,
  SampleOutput,
  SessionInfo,
  SpeedRequest,
  WorkerReply,
} from './protocol';
import { runCompareJob, type ComparedSample } from './compareJob';
import { SerialQueue } from './serialQueue';
import { runTuneJob, type TuneRequest, type TuneSummary } from './tuneJob';
import { runAlgorithmsJob, type AlgorithmsRequest, type AlgorithmsResult } from './algorithmsJob';

export function createLocalCalibrator(ort: OrtModule, info: SessionInfo) {
  const queue = new SerialQueue();
  const running = new Map<number, { controller: AbortController; reject: (e: QuantscopeError) => void }>();
  let nextId = 1;
  /** A job that answers once: the reply `pick` recognises resolves it, an error reply rejects it. */
  const once = <T>(
    job: (id: number, emit: (m: WorkerReply) => void) => Promise<void>,
    pick: (m: WorkerReply) => T | undefined,
  ): { id: number; result: Promise<T> } => {
    const id = nextId++;
    const result = new Promise<T>((resolve, reject) => {
      void job(id, (m) => {
        const v = pick(m);
        if (v !== undefined) resolve(v);
        else if (m.type === 'error') reject(new QuantscopeError(m.error.code, m.error.message));
      });
    });
    return { id, result };
  };
  return {
    start(
      req: Omit<CalibrateRequest, 'type' | 'id'>,
      handlers: CalibrationHandlers = {},
    ): { id: number; result: Promise<CalibrationResult> } {
      const id = nextId++;
      const controller = new AbortController();
      const result = new Promise<CalibrationResult>((resolve, reject) => {
        running.set(id, { controller, reject });
        const emit = (m: WorkerReply): void => {
          if (m.type === 'started') handlers.onStarted?.(m.session);
          else if (m.type === 'progress') handlers.onProgress?.(m.done, m.total);
          else if (m.type === 'result')
            resolve({ stats: m.stats, session: m.session, ms: m.ms, inferenceMs: m.inferenceMs });
          else if (m.type === 'error') reject(new QuantscopeError(m.error.code, m.error.message));
        };
        void runCalibrationJob(ort, info, { type: 'calibrate', id, ...req }, queue, controller.signal, emit).finally(
          () => running.delete(id),
        );
      });
      return { id, result };
    },
    compare(req: Omit<CompareRequest, 'type' | 'id'>): { id: number; result: Promise<readonly ComparedSample[]> } {
      const id = nextId++;
      const controller = new AbortController();
      const result = new Promise<readonly ComparedSample[]>((resolve, reject) => {
        running.set(id, { controller, reject });
        const emit = (m: WorkerReply): void => {
          if (m.type === 'compared') resolve(m.results);
          else if (m.type === 'error') reject(new QuantscopeError(m.error.code, m.error.message));
        };
        void runCompareJob(ort, { type: 'compare', id, ...req }, queue, controller.signal, emit).finally(() =>
          running.delete(id),
        );
      });
      return { id, result };
    },
    speed(req: Omit<SpeedRequest, 'type' | 'id'>): { id: number; result: Promise<SpeedResult> } {
      return once(
        (id, emit) => runSpeedJob(ort, { type: 'speed', id, ...req }, queue, emit),
        (m) => (m.type === 'speed' ? { float: m.float, exported: m.exported } : undefined),
      );
    },
    probe(req: Omit<ProbeRequest, 'type' | 'id'>): { id: number; result: Promise<ProbeResult> } {
      return once(
        (id, emit) => runProbeJob(ort, { type: 'probe', id, ...req }, queue, emit),
        (m) => (m.type === 'probed' ? { backend: m.backend, results: m.results } : undefined),
      );
    },
    guard(req: Omit<GuardRequest, 'type' | 'id'>): { id: number; result: Promise<GuardVerdict> } {
      return once(
        (id, emit) => runGuardJob(ort, { type: 'guard', id, ...req }, queue, emit),
        (m) => (m.type === 'guarded' ? m.verdict : undefined),
      );
    },
    outputs(req: Omit<OutputsRequest, 'type' | 'id'>): { id: number; result: Promise<readonly SampleOutput[]> } {
      return once(
        (id, emit) => runOutputsJob(ort, { type: 'outputs', id, ...req }, queue, emit),
        (m) => (m.type === 'outputsDone' ? m.outputs : undefined),
      );
    },
    round(
      req: Omit<RoundRequest, 'type' | 'id'>,
      handlers: CalibrationHandlers = {},
    ): { id: number; result: Promise<RoundingSummary> } {
      const id = nextId++;
      const controller = new AbortController();
      const result = new Promise<RoundingSummary>((resolve, reject) => {
        running.set(id, { controller, reject });
        const emit = (m: WorkerReply): void => {
          if (m.type === 'progress') handlers.onProgress?.(m.done, m.total);
          else if (m.type === 'rounded') resolve(m.summary);
          else if (m.type === 'error') reject(new QuantscopeError(m.error.code, m.error.message));
        };
        void runRoundJob(ort, { type: 'round', id, ...req }, queue, controller.signal, emit).finally(() =>
          running.delete(id),
        );
      });
      return { id, result };
    },
    tune(
      req: Omit<TuneRequest, 'type' | 'id'>,
      handlers: CalibrationHandlers = {},
    ): { id: number; result: Promise<TuneSummary> } {
      const id = nextId++;
      const controller = new AbortController();
      const result = new Promise<TuneSummary>((resolve, reject) => {
        running.set(id, { controller, reject });
        const emit = (m: WorkerReply): void => {
          if (m.type === 'progress') {
            handlers.onProgress?.(m.done, m.total);
            if (m.tune) handlers.onTuneProgress?.(m.tune);
          } else if (m.type === 'tuned') resolve(m.summary);
          else if (m.type === 'error') reject(new QuantscopeError(m.error.code, m.error.message));
        };
        void runTuneJob(ort, { type: 'tune', id, ...req }, queue, controller.signal, emit).finally(() =>
          running.delete(id),
        );
      });
      return { id, result };
    },
    algorithms(
      req: Omit<AlgorithmsRequest, 'type' | 'id'>,
      handlers: CalibrationHandlers = {},
    ): { id: number; result: Promise<AlgorithmsResult> } {
      const id = nextId++;
      const controller = new AbortController();
      const result = new Promise<AlgorithmsResult>((resolve, reject) => {
        running.set(id, { controller, reject });
        const emit = (m: WorkerReply): void => {
          if (m.type === 'progress') handlers.onProgress?.(m.done, m.total);
          else if (m.type === 'algorithmsDone') resolve(m.result);
          else if (m.type === 'error') reject(new QuantscopeError(m.error.code, m.error.message));
        };
        void runAlgorithmsJob(ort, { type: 'algorithms', id, ...req }, queue, controller.signal, emit).finally(() =>
          running.delete(id),
        );
      });
      return { id, result };
    },
    cancel(id: number): void {
      const r = running.get(id);
      if (!r || r.controller.signal.aborted) return;
      r.controller.abort();
      r.reject(new QuantscopeError('CANCELLED', 'calibration was cancelled'));
    },
  };
}
