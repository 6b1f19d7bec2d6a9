/**
 * The page's debugger and sensitivity jobs (what the worker runs), in Node over onnxruntime-node on a
 * small built network: the debugger's reply names every quantized activation and weight, a graph input
 * is not the first divergence, and a cancelled job says nothing more; sensitivity restricted to some
 * groups (the page's quick sweep) gives those groups exactly the figures of the full sweep (each other
 * group stays quantized when one is kept float), and reports how many groups the model has.
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { mulberry32 } from '../../src/core/random';
import type { SampleSpec } from '../../src/data/samples';
import {
  encodeModel,
  encodeModelParts,
  exportForm,
  planQuantization,
  prepareModel,
  type ModelProto,
} from '../../src/onnx';
import type { StatsMap } from '../../src/runtime/calibrate';
import type { DebugResult } from '../../src/runtime/debug';
import { runDebugJob } from '../../src/runtime/debugJob';
import type { OrtModule } from '../../src/runtime/ort';
import type { WorkerReply } from '../../src/runtime/protocol';
import { runSensitivityJob, type SensitivityReport } from '../../src/runtime/sensitivityJob';
import { SerialQueue } from '../../src/runtime/serialQueue';
import { rangesFor } from '../../src/runtime/tune/prepare';
import { tinyConvNet } from '../helpers/models';
import { calibrateOnSamples } from '../helpers/tuneSetup';

const nodeOrt = ort as unknown as OrtModule;

function samples(n: number, seed: number): SampleSpec[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => ({
    name: `s${i}`,
    inputs: {
      X: {
        kind: 'tensor',
        tensor: { data: Float32Array.from({ length: 192 }, () => rand() * 4 - 2), dims: [1, 3, 8, 8] },
      },
    },
  }));
}

let prepared: ModelProto;
let stats: StatsMap;
const bytes = (m: ModelProto) => encodeModel(m).slice().buffer as ArrayBuffer;

beforeAll(async () => {
  prepared = prepareModel(tinyConvNet()).model;
  stats = await calibrateOnSamples(prepared, samples(6, 1));
});

async function run(job: (emit: (m: WorkerReply) => void) => Promise<void>): Promise<WorkerReply[]> {
  const replies: WorkerReply[] = [];
  await job((m) => replies.push(m));
  return replies;
}

describe('the debugger job', () => {
  const quantized = () => {
    const ranges = rangesFor(stats, prepared, DEFAULT_CONFIG);
    const r = exportForm(prepared, DEFAULT_CONFIG, { plan: planQuantization(prepared, DEFAULT_CONFIG), ranges });
    return new Blob(encodeModelParts(r.model) as Uint8Array<ArrayBuffer>[]);
  };

  it('replies with every quantized activation and weight, progress per sample; a graph input is not the first divergence', async () => {
    const req = {
      type: 'debug',
      id: 1,
      float: bytes(prepared),
      quantized: quantized(),
      samples: samples(3, 2),
      backend: 'cpu',
    } as const;
    const replies = await run((emit) =>
      runDebugJob(nodeOrt, req, new SerialQueue(), new AbortController().signal, emit),
    );
    expect(replies.filter((m) => m.type === 'progress').map((m) => (m as { done: number }).done)).toEqual([1, 2, 3]);
    const done = replies.find((m) => m.type === 'debugged');
    expect(done, JSON.stringify(replies.find((m) => m.type === 'error'))).toBeDefined();
    const r = (done as { result: DebugResult }).result;
    const acts = r.tensors.filter((t) => t.kind === 'activation').map((t) => t.tensor);
    expect(acts).toContain('X');
    expect(acts.length).toBeGreaterThanOrEqual(3);
    expect(r.tensors.some((t) => t.kind === 'weight' && t.tensor === 'W')).toBe(true);
    expect(r.firstDivergence).not.toBeNull();
    expect(r.firstDivergence).not.toBe('X');
    // the input's drop is measured from its own SQNR: zero
    expect(r.tensors.find((t) => t.tensor === 'X')!.dropDb).toBeCloseTo(0, 9);
    expect(r.samples).toBe(3);
  });

  it('built in the job from the choices and statistics, the export is the one Export writes: same figures', async () => {
    const base = { type: 'debug', float: bytes(prepared), samples: samples(2, 5), backend: 'cpu' } as const;
    const results = [];
    for (const extra of [{ quantized: quantized() }, { config: DEFAULT_CONFIG, stats }]) {
      const replies = await run((emit) =>
        runDebugJob(nodeOrt, { ...base, id: 9, ...extra }, new SerialQueue(), new AbortController().signal, emit),
      );
      const done = replies.find((m) => m.type === 'debugged') as { result: DebugResult } | undefined;
      expect(done, JSON.stringify(replies.find((m) => m.type === 'error'))).toBeDefined();
      results.push(done!.result.tensors.map((t) => [t.tensor, t.accumulated.sqnrDb]));
    }
    expect(results[1]).toEqual(results[0]);
  });

  it('a cancelled job sends no reply', async () => {
    const c = new AbortController();
    c.abort();
    const req = {
      type: 'debug',
      id: 2,
      float: bytes(prepared),
      quantized: quantized(),
      samples: samples(2, 3),
      backend: 'cpu',
    } as const;
    const replies = await run((emit) => runDebugJob(nodeOrt, req, new SerialQueue(), c.signal, emit));
    expect(replies.filter((m) => m.type === 'debugged' || m.type === 'error')).toEqual([]);
  });
});

describe('the sensitivity job', () => {
  const sweep = async (groups?: string[]): Promise<{ report: SensitivityReport; totals: number[] }> => {
    const req = {
      type: 'sensitivity',
      id: 3,
      model: bytes(prepared),
      config: DEFAULT_CONFIG,
      stats,
      samples: samples(2, 4),
      floatBytes: 1000,
      backend: 'cpu',
      ...(groups ? { groups } : {}),
    } as const;
    const replies = await run((emit) =>
      runSensitivityJob(nodeOrt, req, new SerialQueue(), new AbortController().signal, emit),
    );
    const done = replies.find((m) => m.type === 'sensitivity-ranked');
    expect(done, JSON.stringify(replies.find((m) => m.type === 'error'))).toBeDefined();
    return {
      report: (done as { report: SensitivityReport }).report,
      totals: replies.filter((m) => m.type === 'progress').map((m) => (m as { total: number }).total),
    };
  };

  it('ranking some groups gives them the full sweep’s figures', async () => {
    const full = await sweep();
    expect(full.report.groups.length).toBe(full.report.totalGroups);
    expect(full.report.totalGroups).toBeGreaterThanOrEqual(3);
    const pick = full.report.groups.slice(-2).map((g) => g.group.tensors[0]!);
    const part = await sweep(pick);
    expect(part.report.groups).toHaveLength(2);
    expect(part.report.totalGroups).toBe(full.report.totalGroups);
    expect(new Set(part.totals)).toEqual(new Set([1 + 2 * 2]));
    for (const g of part.report.groups) {
      const f = full.report.groups.find((x) => x.group.id === g.group.id)!;
      expect(g.onlyQuantized.sqnrDb).toBeCloseTo(f.onlyQuantized.sqnrDb, 6);
      expect(g.onlyFloat.sqnrDb).toBeCloseTo(f.onlyFloat.sqnrDb, 6);
    }
    // kept float alone, the others quantized: not the float model (which would be exact)
    expect(part.report.groups.every((g) => Number.isFinite(g.onlyFloat.sqnrDb))).toBe(true);
    expect(part.report.samples).toBe(2);
    expect(part.report.taskName).toBeNull();
  });
});
