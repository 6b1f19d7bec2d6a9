import type { QuantConfig } from '../core/config';
import type { ConfigEdit } from '../core/configEdits';
import type { ErrorInfo } from '../core/errors';
import type { ExportGuard } from './guard';
import type { TfliteReport } from '../onnx/forms/tflite';
import type { ExportReport, FormReport, SupportRow } from '../onnx';
import type { ImagePreset } from '../data/image';
import type { SpeedResult } from '../runtime/client';
import type { CalibrationMode, StatsMap } from '../runtime/calibrate';
import type { Backend, RoundingSummary, SessionInfo } from '../runtime/protocol';
import type { ComparedSample } from '../runtime/compareJob';
import type { DataSelection, GeneratedSettings } from '../data/buildSamples';
import type { GpuAdapterInfo } from '../runtime/gpu';
import type { DataFile, RefusedFile } from './dataSlice';
import type { ModelVariant } from '../data/modelRepo';
import type { TuneSlice } from './tuneSlice';
import type { ModelAlgorithmsReport } from '../runtime/modelAlgorithms';
import type { DebugSlice } from './debugSlice';
import type { ModelFile, PreparedModelInfo } from '../runtime/modelJob';

export type { ModelFile } from '../runtime/modelJob';

/** A model as the page holds it: prepared (in the worker, or here in Node), and the files it came from. */
export interface LoadedModel extends PreparedModelInfo {
  /** The files it was loaded from (a user's model): what the worker prepares again for an export. */
  readonly files?: readonly ModelFile[];
}

export type CalibrationStatus = 'idle' | 'running' | 'done' | 'error' | 'cancelled';

export interface CalibrationState {
  readonly status: CalibrationStatus;
  readonly runId: number | null;
  /** Runs started on this model: what tells one run's end from the previous run's. */
  readonly runs: number;
  /** The data (its dataGeneration) the statistics were measured on: another choice since makes them stale. */
  readonly statsData: number | null;
  readonly progress: { readonly done: number; readonly total: number };
  readonly stats: StatsMap | null;
  /** The model the statistics belong to. */
  readonly statsFor: string | null;
  readonly session: SessionInfo | null;
  readonly error: ErrorInfo | null;
  readonly ms: number | null;
  readonly inferenceMs: number | null;
  /** Inputs fed back from outputs in streaming order during this run (recurrent models). */
  readonly chained: readonly string[];
  /** What the page did on its own for this run (an input fixed automatically). */
  readonly notes: readonly string[];
}

export interface ExportResult {
  readonly fileName: string;
  /** The file as a Blob of its encoded parts: downloaded and sent to the worker without one big copy. */
  readonly blob: Blob;
  /** Bytes of the export (its data file's included). */
  readonly size: number;
  /** Written with external data: the data file, by the name the .onnx records (saved beside it). */
  readonly dataFile?: { readonly name: string; readonly blob: Blob };
  /** The file's bytes in one buffer, made on first use (Node tests; the page never asks). */
  readonly bytes: Uint8Array;
  readonly floatBytes: number;
  /** Static QDQ's report (quantized counts, tensors left float). */
  readonly report: ExportReport | null;
  /** Every form's report: what was quantized, what stayed float and why, notes. */
  readonly form: FormReport;
  /** Bytes of all initializers, and of those stored as 8-bit or narrower integers. */
  readonly weightBytes: { readonly intBytes: number; readonly totalBytes: number };
  /** Per op key in the file: what onnxruntime-web's backends run (the probed table). */
  readonly support: readonly SupportRow[];
  /** The choices and (static QDQ) the float32 ranges this file was built from: what a recipe records. */
  readonly config: QuantConfig;
  readonly ranges: ReadonlyMap<string, { readonly rmin: number; readonly rmax: number } | null> | null;
  readonly ms: number;
  /** The guard rail: the export against the float model on held-out (or split) samples, and its verdict. */
  readonly guard: ExportGuard;
  /** A .tflite export's report: ops, I/O parameters, TFLite Micro arena and kernels. */
  readonly tflite?: TfliteReport;
  /** GPTQ/AdaRound: each rounded layer's calibration loss against round-to-nearest's, and its time. */
  readonly rounding?: Pick<RoundingSummary, 'layers' | 'momentsMBps'>;
  /** Equalization, SmoothQuant, bias correction: what each did (runtime/modelAlgorithms.ts). */
  readonly algorithms?: ModelAlgorithmsReport;
}

export interface SpeedState {
  readonly status: 'idle' | 'running' | 'done' | 'error';
  /** Per backend measured, for the export named in `forExport`. */
  readonly results: readonly SpeedResult[];
  readonly error: ErrorInfo | null;
  readonly forExport: string | null;
  /** Backends not measured, and why (no real WebGPU adapter). */
  readonly skipped: readonly string[];
}

export interface ComparisonState {
  readonly status: 'idle' | 'running' | 'done' | 'error';
  readonly results: readonly ComparedSample[] | null;
  readonly error: ErrorInfo | null;
  /** True when the samples were held out from calibration. */
  readonly heldOut: boolean;
  readonly forExport: string | null;
}

export interface CompareSlice {
  readonly comparison: ComparisonState;
  readonly speed: SpeedState;
  /** Time float and exported models on WASM and, where the browser has a real adapter, WebGPU. */
  measureSpeed(): Promise<void>;
  /** Run float and exported models side by side: on `heldOutFiles` if given, else on the calibration data. */
  compare(heldOutFiles?: readonly DataFile[]): Promise<void>;
  /**
   * The Export button's flow: export, hand the file to `save` (the page downloads it), then compare
   * float and export on held-out samples (the built-in ones for the PP-OCR samples, fetched from
   * `baseUrl`; else the calibration data). A .tflite is not compared: onnxruntime does not run it.
   */
  exportAndCompare(opts: {
    readonly baseUrl: string;
    readonly save: (fileName: string, file: Blob) => void;
  }): Promise<ExportResult | null>;
}

export interface ModelSlice {
  readonly model: LoadedModel | null;
  readonly modelError: ErrorInfo | null;
  /** A model is being read and prepared (the previous one stays until it is ready). */
  readonly loading: boolean;
  /** Which step of loading is under way: reading, parsing, preparing. */
  readonly loadStage: string | null;
  cancelModelLoad(): void;
  loadModel(
    fileName: string,
    bytes: Uint8Array,
    opts?: { isSample?: boolean; fixedInputs?: Readonly<Record<string, number>> },
  ): void;
  /** Fix a scalar input to a value (or free it with null): the model is prepared again, Ifs on it folded. */
  fixInput(name: string, value: number | null): void;
  /**
   * Load a user's model from files given together (dropped, picked, a folder, or fetched by URL): the
   * `.onnx` and any external data files beside it. Resolves whether the model was loaded (else
   * `modelError` says why); a new model starts with no calibration data chosen.
   */
  loadModelFiles(files: readonly ModelFile[], opts?: { isSample?: boolean }): Promise<boolean>;
}

export interface RemoteVariant extends ModelVariant {
  /** Bytes, as the server announced them (null when it did not). */
  readonly size: number | null;
}

/** A model fetched by URL: probing a repository, the variants found, the transfer's progress. */
export interface RemoteModelState {
  readonly status: 'idle' | 'probing' | 'choosing' | 'fetching' | 'done' | 'error' | 'cancelled';
  readonly input: string;
  readonly variants: readonly RemoteVariant[];
  readonly progress: { readonly file: string; readonly loaded: number; readonly total: number | null } | null;
  /** Every file came from the browser's storage (nothing fetched). */
  readonly fromCache: boolean;
  readonly error: ErrorInfo | null;
}

export interface RemoteSlice {
  readonly remote: RemoteModelState;
  /** A model's URL, or a repository's base URL (transformers.js layout: its variants are offered). */
  openModelUrl(input: string): Promise<void>;
  /** Fetch one model file (and its external data) into the browser's storage and load it. */
  fetchModelVariant(url: string): Promise<void>;
  cancelModelFetch(): void;
}

export interface DataSlice extends DataSelection {
  readonly dataLabel: string;
  readonly dataError: ErrorInfo | null;
  /** Files of the last selection that were left out, each with its reason (the good ones were kept). */
  readonly refusedFiles: readonly RefusedFile[];
  /** No data chosen (a user's model starts so). */
  clearData(): void;
  readonly dataLoading: boolean;
  /** The image preset the user chose; null keeps the model's default. */
  readonly presetOverride: ImagePreset | null;
  /**
   * Counts the user's data choices (each load, even one that fails, clearing, generated data). A load
   * given `askedAt` (the count when it was asked for, before its files were fetched: the built-in
   * images) commits only if no choice was made since, so it never replaces, or clears the error of,
   * files the user gave while it was fetched.
   */
  readonly dataGeneration: number;
  /** Read files as calibration data. */
  loadDataFiles(files: readonly DataFile[], label?: string, opts?: { askedAt?: number }): Promise<void>;
  useGeneratedData(count: number): void;
  setGenerated(input: string, settings: GeneratedSettings): void;
  setDimValue(dim: string, value: number): void;
  setPresetOverride(preset: ImagePreset | null): void;
}

export interface CalibrationSlice {
  readonly backend: Backend;
  /** Streaming (one pass) or onnxruntime-exact (two passes): see runtime/calibrate.ts. */
  readonly calibrationMode: CalibrationMode;
  setCalibrationMode(m: CalibrationMode): void;
  /** Recurrent models: calibrate in streaming order, each output fed back into the input it matches. */
  readonly chainRecurrent: boolean;
  /** Bytes a calibration may use here; null: this browser's (wasm's 4 GiB, or the device's memory). */
  readonly memoryBudget: number | null;
  setChainRecurrent(on: boolean): void;
  /**
   * WebGPU: fold the statistics on the GPU (default); false reads the activations back and folds them
   * on the CPU, the reference that e2e/webgpu.spec.ts and the bench compare the GPU fold against.
   */
  readonly gpuFold: boolean;
  /**
   * WASM: fold in the nested fold worker even where onnxruntime's threads take every core, where the
   * page folds in the calibrating thread by default (faster there); e2e/quantize.spec.ts sets it to
   * check that worker on a 2-core machine.
   */
  readonly foldWorkerBesideThreads: boolean;
  readonly calibration: CalibrationState;
  readonly selectedTensor: string | null;
  setBackend(b: Backend): void;
  /** This browser's WebGPU adapter (null until probed). */
  readonly gpu: GpuAdapterInfo | null;
  /** Probe the adapter once; later calls return the same answer. */
  probeGpu(): Promise<GpuAdapterInfo>;
  /** Calibrate on the chosen data (`notes`: what was done on the way, shown with the result). */
  calibrate(notes?: readonly string[]): Promise<void>;
  cancelCalibration(): void;
  selectTensor(t: string): void;
}

export interface ExportSlice {
  readonly config: QuantConfig;
  /** Change a choice: statistics stay, scales are re-derived from them, the next export follows. */
  setConfig(update: Partial<QuantConfig> | ((c: QuantConfig) => QuantConfig)): void;
  /** One edit from the page's controls (core/configEdits.ts): the one way a control changes the configuration. */
  editConfig(edit: ConfigEdit): void;
  readonly exported: ExportResult | null;
  readonly exportError: ErrorInfo | null;
  /** Progress while the ranges are computed (an entropy search takes a while); `checking`: the file is being loaded in onnxruntime before it is offered. */
  readonly exporting: { readonly done: number; readonly total: number; readonly checking?: 'onnx' | 'tflite' } | null;
  exportModel(): Promise<ExportResult | null>;
  /** Ranges from a loaded recipe: static QDQ exports from them when there is no calibration. */
  readonly recipeRanges: ReadonlyMap<string, { readonly rmin: number; readonly rmax: number } | null> | null;
  readonly recipeError: ErrorInfo | null;
  /** Restore every choice of a recipe (the model must be the one it names, unless forced). */
  loadRecipe(text: string, opts?: { force?: boolean }): Promise<void>;
  downloadRecipeText(): Promise<string>;
}

export type AppState = ModelSlice &
  DataSlice &
  CalibrationSlice &
  ExportSlice &
  CompareSlice &
  RemoteSlice &
  TuneSlice &
  DebugSlice;
