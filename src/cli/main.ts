/**
 * quantscope: the page's quantization from the command line, over the same core, onnx and runtime
 * code (onnxruntime-node runs the models). Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { isQuantscopeError } from '../core/errors';
import { METHOD_VARIANTS } from '../core/methods';
import { hasFlag, parseArgs, UsageError, type Args, type Command } from './args';

/**
 * Each command's module, loaded when it runs: the built command (scripts/build-cli.mjs) splits them
 * into chunks, so a start loads what its command needs. Loaded up front, every command paid for all
 * the packages any one imports (protobuf's runtime and the ONNX schema, fast-png, flatbuffers,
 * cli-progress: ~0.2 s of a `quantscope range`'s ~0.45 s on this machine, measured by importing them
 * alone), and `range` reads no model at all.
 */
const COMMANDS: Record<Command, () => Promise<(a: Args) => Promise<void>>> = {
  inspect: async () => (await import('./inspectCommand')).cmdInspect,
  calibrate: async () => (await import('./calibrateCommand')).cmdCalibrate,
  quantize: async () => (await import('./quantizeCommand')).cmdQuantize,
  eval: async () => (await import('./evalCommand')).cmdEval,
  range: async () => (await import('./rangeCommand')).cmdRange,
  debug: async () => (await import('./debugCommand')).cmdDebug,
  sensitivity: async () => (await import('./sensitivityCommand')).cmdSensitivity,
  tune: async () => (await import('./tuneCommand')).cmdTune,
};

const HELP = `quantscope — quantize ONNX models (the page's engine, from the command line)

  quantscope inspect MODEL [--json] [--fix NAME=VALUE]
  quantscope calibrate MODEL --data DIR_OR_FILES... [--mode streaming|onnxruntime-exact] [--method M] -o STATS.json
  quantscope quantize MODEL (--recipe RECIPE.json [--force] | FLAGS) [--data ...] -o OUT.onnx [--write-recipe R.json]
  quantscope eval FLOAT.onnx QUANTIZED.onnx --data ... [--json]
  quantscope debug FLOAT.onnx QUANTIZED.onnx --data ... [--json]       per-tensor error, first divergence
  quantscope sensitivity MODEL --data ... [quantize FLAGS] [--held-out ...] [--json]   groups ranked
  quantscope tune MODEL --data ... [quantize FLAGS] [--held-out ...]
                 [--target-agreement F | --target-sqnr DB | --target-drop POINTS] -o OUT.onnx [--write-recipe R.json] [--json]
      --target-drop: at most POINTS (percent) below the float model's task metric: PP-OCR rec's character
       accuracy on the held-out lines named in --labels LABELS.json ({"file.png": "text"}; --dictionary KEYS.txt
       [PaddleOCR's ppocr_keys_v1.txt]), PP-OCR det's box F1 against the float model's boxes
      (no target: top-1 agreement >= 0.99 on the first non-recurrent output with a class axis, else SQNR >= 30 dB;
       --data alone: its last quarter is held out; the quantize FLAGS are the start and the cheapest choice)
  quantscope range TENSOR.npy --method minmax|moving-average|percentile|entropy|mse|distribution [options] [--json]

quantize FLAGS (defaults in brackets: what works for most models):
  --preset fbgemm|x86|qnnpack          PyTorch's get_default_qconfig(backend), exactly: HistogramObserver
                                       activations (uint8; reduce range but for qnnpack), symmetric int8
                                       weights per channel (per tensor for qnnpack), PyTorch's rules, and
                                       QDQ pairs where eager PyTorch observes (sets the flags below itself)
  --format qdq|weight-only|matmulnbits|dynamic|fp16|bf16|q4f16      [qdq]
  --format tflite|tflite-float16|tflite-float32   a .tflite file: fully int8 (TFLite's int8 spec, calibrated
                                       like qdq; --method applies, --activations/--weights other than
                                       int8, --per-tensor, --symmetric-activations and --exclude are
                                       refused), float16 weights, or float32; NHWC inputs
  --tflite-io int8|float               int8 .tflite: integer inputs and outputs (microcontrollers) [float]
  --tflite-fc-per-channel              int8 .tflite: FullyConnected weights per output channel [per tensor]
  --weights int8|uint8|int4|uint4                                   [int8, symmetric]
  --activations int8|uint8|int16|uint16                             [int8, asymmetric]
  --per-channel | --per-tensor                                      [per-channel]
  --block-size N                       per-block weight scales (MatMul, Gemm, Conv along its input channels; weight-only and MatMulNBits too)
  --method ${METHOD_VARIANTS.map((v) => v.id).join('|')}   [minmax]
  --percentile P                       for --method percentile        [99.999]
  --symmetric-activations              symmetric activation ranges
  --convention onnxruntime|pytorch     scale/zero-point rules, activations and weights [onnxruntime]
  --reduce-range                       half the integer range
  --exclude NAME...                    keep these nodes float (repeatable)
  --fix NAME=VALUE                     fix an input (folds Ifs on it, e.g. Silero VAD's sr=16000)
  --mode streaming|onnxruntime-exact   calibration statistics          [streaming]
  --algorithm rtn|gptq|adaround        how weight-only weights are rounded (gptq, adaround need --data) [rtn]
  --gptq-damp F --gptq-block N --act-order    GPTQ's damping [0.01], lazy-update block [128], act-order
  --adaround-iters N                   AdaRound iterations a layer     [300]
  --equalize                           cross-layer equalization of Conv/Gemm pairs joined by Relu, PRelu,
                                       LeakyRelu or nothing (float outputs unchanged; skipped pairs said)
  --smoothquant [--smoothquant-alpha A]   SmoothQuant on MatMul/Gemm inputs (needs --data)  [alpha 0.5]
  --bias-correction                    subtract the mean output shift quantized weights cause on --data
                                       from each bias (static QDQ and weight-only)
  --chain                              recurrent models: calibrate in streaming order, each output with an
                                       input's name and shape (Silero's stateN → state) fed back
  --held-out PATH...                   samples kept aside to check the export on [a split of --data]
  --external-data                      write the weights to OUT.onnx_data beside OUT.onnx (always done past
                                       2 GiB); a model with external data is read from its folder
  --calibration-passes N               calibrate in N sessions over subsets of the tensors (a model whose
                                       every-tensor calibration would not fit in memory) [1]
  --max-memory SIZE                    what calibration may use (512M, 16G): estimated before it starts, it
                                       runs in passes or is refused with the numbers [the free memory]

Every export is checked against the float model (top-1 agreement >= 99% on a class axis, else output
SQNR >= 20 dB, on the first output that is not recurrent state); a miss is a warning naming the
metric, its value and the target (a .tflite cannot run here: an int8 one is checked through its static
QDQ twin, the same ranges, and says so; a float one is said unchecked). A scalar input every sample
gives one value, that an If branches on, is fixed automatically (--fix overrides).

range options: --dtype int8|uint8|int16|uint16|int4|uint4 [int8] --symmetric --reduce-range
  --convention onnxruntime|pytorch [onnxruntime] --percentile P --bins N [2048] --quantized-bins M [128] --per-channel --axis N
  (--method entropy --bins 128 --quantized-bins 128 is onnxruntime's entropy calibrator exactly;
  --method percentile --symmetric its default symmetric percentile on the |x| histogram, exactly)

A flag a command does not take is refused (exit 2), never ignored.

Exit codes: 0 done, 1 failed, 2 bad usage.`;

export async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error(`quantscope: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const command = args.command;
  if (!command || hasFlag(args, 'help')) {
    console.log(HELP);
    return command || hasFlag(args, 'help') ? 0 : 2;
  }
  try {
    await (
      await COMMANDS[command]()
    )(args);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`quantscope ${command}: ${e.message} (quantscope --help)`);
      return 2;
    }
    console.error(`quantscope ${command}: ${failureMessage(e)}`);
    return 1;
  }
}

/**
 * What a failure says: a coded error's message; anything else (an error onnxruntime-node throws, say,
 * on a model it refuses) its message alone, never a stack trace, unless QUANTSCOPE_DEBUG=1 asks for one.
 */
function failureMessage(e: unknown): string {
  if (isQuantscopeError(e)) return e.message;
  if (process.env.QUANTSCOPE_DEBUG === '1' && e instanceof Error && e.stack) return e.stack;
  const message = e instanceof Error ? e.message : String(e);
  return `${message.trim() || 'failed with no message'} (QUANTSCOPE_DEBUG=1 shows where)`;
}
