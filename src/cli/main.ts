/**
 * quantscope: the page's quantization from the command line, over the same core, onnx and runtime
 * code (onnxruntime-node runs the models). Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { activationConfigFor, activationRange, DEFAULT_CONFIG, type ExportForm, type QuantConfig } from '../core/config';
import { quantParams } from '../core/conventions';
import type { IntDType } from '../core/dtype';
import { isQuantscopeError, QuantscopeError } from '../core/errors';
import { distribution, methodRange, METHOD_VARIANTS, methodVariant, variantFields } from '../core/methods';
import { compareTensors } from '../core/metrics';
import { createMinMax, updateMinMax } from '../core/minmax';
import { createHistogram, updateHistogram } from '../core/histogram';
import { parseRecipe, rangesFromRecipe, rangesToRecipe, RECIPE_VERSION, serializeRecipe, type Recipe } from '../core/recipe';
import { channelRanges } from '../core/weights';
import { decodeModel, encodeModel, encodeModelParts, exportForm, planQuantization, prepareModel, summarizeModel, withExtraOutputs, type ModelProto, type TensorRange } from '../onnx';
import { calibrate, type StatsMap } from '../runtime/calibrate';
import { topKAgreement } from '../runtime/compareJob';
import { PPOCR_DET_PRESET, PPOCR_REC_PRESET, type ImagePreset } from '../runtime/data/image';
import { npyToFloat32, parseNpy } from '../runtime/data/npy';
import { materializeSample } from '../runtime/data/samples';
import { toOrtFeeds, type OrtModule, type Tensor } from '../runtime/ort';
import { loadSamples } from './data';
import { progressBar } from './progress';

class UsageError extends Error {}

const HELP = `quantscope — quantize ONNX models (the page's engine, from the command line)

  quantscope inspect MODEL [--json] [--fix NAME=VALUE]
  quantscope calibrate MODEL --data DIR_OR_FILES... [--mode streaming|onnxruntime-exact] [--method M] -o STATS.json
  quantscope quantize MODEL (--recipe RECIPE.json [--force] | FLAGS) [--data ...] -o OUT.onnx [--write-recipe R.json]
  quantscope eval FLOAT.onnx QUANTIZED.onnx --data ... [--json]
  quantscope range TENSOR.npy --method minmax|moving-average|percentile|entropy|mse|distribution [options] [--json]

quantize FLAGS (defaults in brackets: what works for most models):
  --format qdq|weight-only|matmulnbits|dynamic|fp16|bf16|q4f16      [qdq]
  --weights int8|uint8|int4|uint4                                   [int8, symmetric]
  --activations int8|uint8|int16|uint16                             [int8, asymmetric]
  --per-channel | --per-tensor                                      [per-channel]
  --block-size N                       per-block weight scales (MatMul, Gemm; weight-only and MatMulNBits too)
  --method ${METHOD_VARIANTS.map((v) => v.id).join('|')}   [minmax]
  --percentile P                       for --method percentile        [99.999]
  --symmetric-activations              symmetric activation ranges
  --convention onnxruntime|pytorch     scale/zero-point rules          [onnxruntime]
  --reduce-range                       half the integer range
  --exclude NAME...                    keep these nodes float (repeatable)
  --fix NAME=VALUE                     fix an input (folds Ifs on it, e.g. Silero VAD's sr=16000)
  --mode streaming|onnxruntime-exact   calibration statistics          [streaming]

range options: --dtype int8|uint8|int16|uint16|int4|uint4 [int8] --symmetric --reduce-range
  --convention ort|pytorch --percentile P --bins N [2048] --quantized-bins M [128] --per-channel --axis N
  (--method entropy --bins 128 --quantized-bins 128 is onnxruntime's entropy calibrator exactly)

Exit codes: 0 done, 1 failed, 2 bad usage.`;

interface Args {
  readonly positional: string[];
  readonly flags: Map<string, string[]>;
}

const BOOLEAN = new Set(['json', 'force', 'per-channel', 'per-tensor', 'symmetric-activations', 'symmetric', 'reduce-range', 'help']);

function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-o') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError('-o needs a file name');
      flags.set('output', [v]);
    } else if (a.startsWith('--')) {
      const [key, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (BOOLEAN.has(key)) {
        flags.set(key, ['true']);
        continue;
      }
      const values: string[] = inline !== undefined ? [inline] : [];
      // --data and --exclude take every value up to the next flag
      while (inline === undefined && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
        values.push(argv[++i]!);
        if (key !== 'data' && key !== 'exclude') break;
      }
      if (values.length === 0) throw new UsageError(`--${key} needs a value`);
      flags.set(key, [...(flags.get(key) ?? []), ...values]);
    } else positional.push(a);
  }
  return { positional, flags };
}

const one = (a: Args, k: string): string | undefined => a.flags.get(k)?.[0];
const has = (a: Args, k: string) => a.flags.has(k);

function choice<T extends string>(a: Args, k: string, allowed: readonly T[], fallback: T): T {
  const v = one(a, k);
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) throw new UsageError(`--${k} ${v}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

function numberFlag(a: Args, k: string, fallback?: number): number | undefined {
  const v = one(a, k);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${k} ${v}: not a number`);
  return n;
}

function fixedInputs(a: Args): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of a.flags.get('fix') ?? []) {
    const [k, v] = f.split('=');
    if (!k || v === undefined || !Number.isInteger(Number(v))) throw new UsageError(`--fix ${f}: expected NAME=INTEGER`);
    out[k] = Number(v);
  }
  return out;
}

function readModel(path: string): { bytes: Uint8Array; model: ModelProto } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new QuantscopeError('BAD_DATA', `${path}: cannot be read`);
  }
  return { bytes, model: decodeModel(bytes, basename(path)) };
}

function imageInput(prepared: ModelProto): { name: string; preset: ImagePreset } | null {
  const g = prepared.graph!;
  const inits = new Set(g.initializer.map((t) => t.name));
  const inputs = g.input.filter((v) => !inits.has(v.name));
  if (inputs.length !== 1) return null;
  const v = inputs[0]!;
  const t = v.type?.value.case === 'tensorType' ? v.type.value.value : undefined;
  const dims = t?.shape?.dim ?? [];
  if (t?.elemType !== 1 || dims.length !== 4 || Number(dims[1]?.value.value) !== 3) return null;
  const out = g.output[0];
  const od = out?.type?.value.case === 'tensorType' ? (out.type.value.value.shape?.dim ?? []) : [];
  const rec = od.length === 3 && Number(od[2]?.value.value) === 6625;
  return { name: v.name, preset: rec ? PPOCR_REC_PRESET : g.node.some((n) => n.opType === 'ConvTranspose') ? PPOCR_DET_PRESET : { normalize: 'imagenet', channels: 'RGB', layout: 'NCHW', resize: 'stretch' } };
}

/** Write through a temporary name, then rename: no half-written file is ever left at the destination. */
function writeAtomically(path: string, parts: readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new QuantscopeError('BAD_DATA', `${path}: cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    for (const p of parts) writeSync(fd, p);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw new QuantscopeError('BAD_DATA', `${path}: cannot be written (${(e as Error).message})`);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function runCalibration(prepared: ModelProto, tensors: readonly string[], samples: ReturnType<typeof loadSamples>, mode: 'streaming' | 'onnxruntime-exact', quiet: boolean): Promise<StatsMap> {
  const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(prepared, tensors)), { logSeverityLevel: 3 });
  const bar = quiet ? null : progressBar('calibrating');
  try {
    return await calibrate(ort as unknown as OrtModule, session, { count: samples.length, feeds: async (i) => materializeSample(samples[i]!) }, tensors, {
      mode,
      onProgress: (done, total) => bar?.update(done, total),
    });
  } finally {
    bar?.stop();
    await session.release();
  }
}

function rangesOf(stats: StatsMap, prepared: ModelProto, config: QuantConfig): Map<string, TensorRange | null> {
  const producer = new Map(prepared.graph!.node.flatMap((n) => n.output.map((o) => [o, n.opType] as const)));
  const out = new Map<string, TensorRange | null>();
  for (const [t, s] of Object.entries(stats)) {
    if (s.minmax.nanCount + s.minmax.infCount > 0 || s.minmax.min > s.minmax.max) {
      out.set(t, null);
      continue;
    }
    const r = activationRange(s, activationConfigFor(config, t, producer.get(t)));
    out.set(t, { rmin: Math.fround(r.rmin), rmax: Math.fround(r.rmax) });
  }
  return out;
}

function configFromFlags(a: Args): QuantConfig {
  const fmt = choice(a, 'format', ['qdq', 'weight-only', 'matmulnbits', 'dynamic', 'fp16', 'bf16', 'q4f16'] as const, 'qdq');
  const wdt = choice(a, 'weights', ['int8', 'uint8', 'int4', 'uint4'] as const, fmt === 'matmulnbits' || fmt === 'q4f16' ? 'int4' : 'int8');
  const adt = choice(a, 'activations', ['int8', 'uint8', 'int16', 'uint16'] as const, 'int8');
  const block = numberFlag(a, 'block-size');
  if (block !== undefined && (!Number.isInteger(block) || block < 16 || (block & (block - 1)) !== 0)) throw new UsageError(`--block-size ${block}: a power of two, at least 16`);
  if (has(a, 'per-channel') && has(a, 'per-tensor')) throw new UsageError('--per-channel and --per-tensor exclude each other');
  const variantId = one(a, 'method') ?? 'minmax';
  const variant = methodVariant(variantId);
  if (!variant) throw new UsageError(`--method ${variantId}: expected one of ${METHOD_VARIANTS.map((v) => v.id).join(', ')}`);
  const percentile = numberFlag(a, 'percentile');
  let form: ExportForm;
  switch (fmt) {
    case 'qdq':
      form = { kind: 'qdq' };
      break;
    case 'weight-only':
      form = { kind: 'weight-only', format: 'dq', dtype: wdt, symmetric: !wdt.startsWith('u'), blockSize: block ?? null };
      break;
    case 'matmulnbits':
      form = { kind: 'weight-only', format: 'matmulnbits', dtype: wdt, symmetric: !wdt.startsWith('u'), blockSize: block ?? 32 };
      break;
    case 'dynamic':
      form = { kind: 'dynamic', ops: ['MatMul', 'Gemm'] };
      break;
    case 'fp16':
      form = { kind: 'float16', keepIoTypes: true };
      break;
    case 'bf16':
      form = { kind: 'bfloat16' };
      break;
    case 'q4f16':
      form = { kind: 'q4f16', blockSize: block ?? 32 };
      break;
  }
  return {
    ...DEFAULT_CONFIG,
    form,
    activations: {
      ...DEFAULT_CONFIG.activations,
      dtype: adt,
      symmetric: has(a, 'symmetric-activations'),
      ...variantFields(variant),
      ...(percentile !== undefined ? { percentile } : {}),
      ...(has(a, 'reduce-range') ? { reduceRange: true } : {}),
      ...(one(a, 'convention') ? { convention: choice(a, 'convention', ['onnxruntime', 'pytorch'] as const, 'onnxruntime') } : {}),
    },
    weights: { ...DEFAULT_CONFIG.weights, dtype: wdt, perChannel: !has(a, 'per-tensor'), ...(fmt === 'qdq' && block !== undefined ? { blockSize: block } : {}) },
    excludeNodes: a.flags.get('exclude') ?? [],
  };
}

async function cmdInspect(a: Args): Promise<void> {
  const path = a.positional[0];
  if (!path) throw new UsageError('inspect needs a model');
  const { bytes, model } = readModel(path);
  const prep = prepareModel(model, { fixedInputs: fixedInputs(a) });
  const plan = planQuantization(prep.model, DEFAULT_CONFIG);
  const s = summarizeModel(model, prep.model, plan, basename(path), bytes.length, prep.log);
  if (has(a, 'json')) {
    console.log(JSON.stringify({ ...s, sha256: sha256(bytes) }, null, 2));
    return;
  }
  const io = (v: (typeof s.inputs)[number]) => `  ${v.name}: ${v.dtype} [${(v.shape ?? ['?']).join(', ')}]`;
  console.log(`${s.fileName}: ${bytes.length} bytes, IR ${s.irVersion}, opset ${s.opset}, ${s.nodeCount} nodes, ${s.parameterCount} parameters`);
  console.log(`inputs:\n${s.inputs.map(io).join('\n')}\noutputs:\n${s.outputs.map(io).join('\n')}`);
  console.log(`operators: ${Object.entries(s.opCounts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.preparation.length) console.log(`preparation:\n${s.preparation.map((l) => `  ${l}`).join('\n')}`);
  console.log(`${s.quantizedNodes.length} nodes will be quantized; ${s.floatNodes.length} quantizable nodes stay float`);
}

async function cmdCalibrate(a: Args): Promise<void> {
  const path = a.positional[0];
  const out = one(a, 'output');
  if (!path || !out) throw new UsageError('calibrate needs a model and -o STATS.json');
  const data = a.flags.get('data');
  if (!data) throw new UsageError('calibrate needs --data');
  const { model } = readModel(path);
  const fixed = fixedInputs(a);
  const prepared = prepareModel(model, { fixedInputs: fixed }).model;
  const plan = planQuantization(prepared, DEFAULT_CONFIG);
  const s = summarizeModel(model, prepared, plan, basename(path), 0, []);
  const samples = loadSamples(data, s.inputs, imageInput(prepared), fixed);
  const mode = choice(a, 'mode', ['streaming', 'onnxruntime-exact'] as const, 'streaming');
  const stats = await runCalibration(prepared, plan.activations, samples, mode, has(a, 'json') || !process.stderr.isTTY);
  const config = configFromFlags(a);
  const ranges = rangesOf(stats, prepared, config);
  const json = {
    model: basename(path),
    samples: samples.length,
    mode,
    method: one(a, 'method') ?? 'minmax',
    tensors: Object.fromEntries(
      Object.entries(stats).map(([t, st]) => [
        t,
        { min: st.minmax.min, max: st.minmax.max, count: st.minmax.count, nanCount: st.minmax.nanCount, infCount: st.minmax.infCount, range: ranges.get(t) ? [ranges.get(t)!.rmin, ranges.get(t)!.rmax] : null, histogram: { threshold: st.histogram.threshold, counts: Array.from(st.histogram.counts) } },
      ]),
    ),
  };
  writeAtomically(out, [new TextEncoder().encode(`${JSON.stringify(json)}\n`)]);
  if (!has(a, 'json')) console.log(`${out}: statistics of ${plan.activations.length} tensors over ${samples.length} samples`);
}

async function cmdQuantize(a: Args): Promise<void> {
  const path = a.positional[0];
  const out = one(a, 'output');
  if (!path || !out) throw new UsageError('quantize needs a model and -o OUT.onnx');
  const { bytes, model } = readModel(path);
  let recipe: Recipe | null = null;
  const recipePath = one(a, 'recipe');
  if (recipePath) {
    let text: string;
    try {
      text = readFileSync(recipePath, 'utf8');
    } catch {
      throw new QuantscopeError('BAD_DATA', `${recipePath}: cannot be read`);
    }
    recipe = parseRecipe(text, recipePath);
    const sha = sha256(bytes);
    if (sha !== recipe.model.sha256) {
      if (!has(a, 'force')) throw new QuantscopeError('BAD_DATA', `${recipePath}: the recipe is for ${recipe.model.fileName} (sha256 ${recipe.model.sha256}), not ${path} (sha256 ${sha}); --force uses it anyway`);
      console.error(`warning: ${recipePath} is for another model (${recipe.model.fileName}); going on because of --force`);
    }
  }
  const fixed = recipe ? { ...recipe.preparation.fixedInputs } : fixedInputs(a);
  const config = recipe ? recipe.config : configFromFlags(a);
  const prepared = prepareModel(model, { fixedInputs: fixed }).model;
  const plan = planQuantization(prepared, config);
  const form = config.form ?? { kind: 'qdq' };
  let ranges: Map<string, TensorRange | null> | undefined;
  if (form.kind === 'qdq') {
    if (recipe && Object.keys(recipe.ranges).length) ranges = rangesFromRecipe(recipe);
    else {
      const data = a.flags.get('data');
      if (!data) throw new UsageError('static QDQ needs ranges: give --data to calibrate on, or a --recipe that has them');
      const s = summarizeModel(model, prepared, plan, basename(path), 0, []);
      const stats = await runCalibration(prepared, plan.activations, loadSamples(data, s.inputs, imageInput(prepared), fixed), choice(a, 'mode', ['streaming', 'onnxruntime-exact'] as const, 'streaming'), !process.stderr.isTTY);
      ranges = rangesOf(stats, prepared, config);
    }
  }
  const r = exportForm(prepared, config, ranges ? { plan, ranges } : undefined);
  const parts = encodeModelParts(r.model);
  writeAtomically(out, parts);
  const size = parts.reduce((n, p) => n + p.length, 0);
  console.log(`${out}: ${r.report.form}, ${size} bytes (${((100 * size) / bytes.length).toFixed(1)}% of the float model)`);
  const recipeOut = one(a, 'write-recipe');
  if (recipeOut) {
    const written: Recipe = {
      $schema: 'recipe.schema.json',
      quantscope: RECIPE_VERSION,
      model: { fileName: basename(path), sha256: sha256(bytes), bytes: bytes.length },
      preparation: { fixedInputs: fixed, log: prepareModel(model, { fixedInputs: fixed }).log },
      calibration: recipe?.calibration ?? null,
      config,
      ranges: ranges ? rangesToRecipe(ranges) : {},
    };
    writeAtomically(recipeOut, [new TextEncoder().encode(serializeRecipe(written))]);
  }
}

async function cmdEval(a: Args): Promise<void> {
  const [floatPath, quantPath] = a.positional;
  if (!floatPath || !quantPath) throw new UsageError('eval needs FLOAT.onnx and QUANTIZED.onnx');
  const data = a.flags.get('data');
  if (!data) throw new UsageError('eval needs --data');
  const f = readModel(floatPath);
  const q = readModel(quantPath);
  const fixed = fixedInputs(a);
  const prepared = prepareModel(f.model, { fixedInputs: fixed }).model;
  const s = summarizeModel(f.model, prepared, planQuantization(prepared, DEFAULT_CONFIG), basename(floatPath), 0, []);
  const samples = loadSamples(data, s.inputs, imageInput(prepared), fixed);
  const fs = await ort.InferenceSession.create(f.bytes, { logSeverityLevel: 3 });
  const qs = await ort.InferenceSession.create(q.bytes, { logSeverityLevel: 3 });
  const rows: { sample: string; output: string; sqnrDb: number; cosine: number; maxAbsError: number; top1: number | null }[] = [];
  for (const sample of samples) {
    const feeds = toOrtFeeds(ort as unknown as OrtModule, materializeSample(sample)) as Record<string, ort.Tensor>;
    const fo = await fs.run(feeds);
    const qo = await qs.run(feeds);
    for (const name of fs.outputNames) {
      const ft = fo[name] as unknown as Tensor;
      const qt = qo[name] as unknown as Tensor | undefined;
      if (!qt) throw new QuantscopeError('RUNTIME', `${quantPath}: has no output "${name}"`);
      const m = compareTensors(ft.data as Float32Array, qt.data as Float32Array);
      const top = topKAgreement(ft.data as Float32Array, qt.data as Float32Array, ft.dims);
      rows.push({ sample: sample.name, output: name, sqnrDb: m.sqnrDb, cosine: m.cosine, maxAbsError: m.maxAbs, top1: top ? top.top1 / top.rows : null });
    }
  }
  if (has(a, 'json')) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  for (const r of rows) console.log(`${r.sample} ${r.output}: SQNR ${r.sqnrDb.toFixed(2)} dB, cosine ${r.cosine.toFixed(5)}, max error ${r.maxAbsError.toExponential(3)}${r.top1 !== null ? `, top-1 agreement ${(100 * r.top1).toFixed(1)}%` : ''}`);
}

async function cmdRange(a: Args): Promise<void> {
  const path = a.positional[0];
  if (!path) throw new UsageError('range needs a .npy tensor');
  let data: Float32Array;
  let shape: number[];
  try {
    const arr = parseNpy(new Uint8Array(readFileSync(path)), path);
    data = npyToFloat32(arr);
    shape = arr.shape;
  } catch (e) {
    if (isQuantscopeError(e)) throw e;
    throw new QuantscopeError('BAD_DATA', `${path}: cannot be read`);
  }
  const method = choice(a, 'method', ['minmax', 'moving-average', 'percentile', 'entropy', 'mse', 'distribution'] as const, 'minmax');
  const dtype = choice(a, 'dtype', ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'] as const, 'int8') as IntDType;
  const convention = choice(a, 'convention', ['ort', 'pytorch', 'onnxruntime'] as const, 'ort') === 'pytorch' ? 'pytorch' : 'onnxruntime';
  const bins = numberFlag(a, 'bins', 2048)!;
  const opts = { symmetric: has(a, 'symmetric'), reduceRange: has(a, 'reduce-range'), convention } as const;
  const one1 = (x: Float32Array) => {
    if (method === 'distribution') {
      // onnxruntime's distribution calibrator: mean and std of the histogram, and the float8 E4M3FN
      // scale std / std(E4M3FN values), zero point 0; the range is the histogram's [-t, t]
      const h = updateHistogram(createHistogram(bins), x);
      const d = distribution(h);
      return { rmin: -h.threshold, rmax: h.threshold, scale: d.e4m3fnScale, zeroPoint: 0, avg: d.avg, std: d.std, dtype: 'float8e4m3fn' };
    }
    const stats = { minmax: updateMinMax(createMinMax(), x), histogram: updateHistogram(createHistogram(bins), x), batchMin: Float32Array.of(Math.min(...x)), batchMax: Float32Array.of(Math.max(...x)) };
    const r = method === 'minmax' ? { rmin: stats.minmax.min, rmax: stats.minmax.max } : methodRange(stats, method, { percentile: numberFlag(a, 'percentile'), quantizedBins: numberFlag(a, 'quantized-bins'), entropyBins: bins, percentileTails: opts.symmetric ? 'abs' : 'both' });
    const p = quantParams(r.rmin, r.rmax, dtype, opts);
    return { rmin: r.rmin, rmax: r.rmax, scale: p.scale, zeroPoint: p.zeroPoint };
  };
  let result: unknown;
  if (has(a, 'per-channel')) {
    const axis = numberFlag(a, 'axis', 0)!;
    const { mins, maxs } = channelRanges(data, shape, axis);
    const rows = Array.from(mins, (mn, c) => {
      const p = quantParams(mn, maxs[c]!, dtype, opts);
      return { rmin: mn, rmax: maxs[c]!, scale: p.scale, zeroPoint: p.zeroPoint };
    });
    result = { rmin: rows.map((r) => r.rmin), rmax: rows.map((r) => r.rmax), scale: rows.map((r) => r.scale), zeroPoint: rows.map((r) => r.zeroPoint) };
  } else result = one1(data);
  if (has(a, 'json')) console.log(JSON.stringify(result));
  else console.log(Object.entries(result as Record<string, unknown>).map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : v}`).join('\n'));
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error(`quantscope: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const [command, ...rest] = args.positional;
  if (!command || has(args, 'help')) {
    console.log(HELP);
    return command || has(args, 'help') ? 0 : 2;
  }
  const sub: Args = { positional: rest, flags: args.flags };
  const commands: Record<string, (a: Args) => Promise<void>> = { inspect: cmdInspect, calibrate: cmdCalibrate, quantize: cmdQuantize, eval: cmdEval, range: cmdRange };
  const run = commands[command];
  if (!run) {
    console.error(`quantscope: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  try {
    await run(sub);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`quantscope ${command}: ${e.message} (quantscope --help)`);
      return 2;
    }
    console.error(`quantscope ${command}: ${isQuantscopeError(e) ? e.message : (e as Error).stack ?? String(e)}`);
    return 1;
  }
}
