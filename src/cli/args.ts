/**
 * Command-line arguments, parsed strictly by Node's util.parseArgs: every flag is declared once in
 * FLAGS with its type and the commands that take it, so a misspelled or unknown flag, a flag another
 * command owns, or a value given to a switch is a usage error (exit 2), never silently ignored.
 * `--data A B ...` and `--exclude A B ...` take every value up to the next flag, as before.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { editDistance } from '../data/ocr';

export class UsageError extends Error {}

export const COMMANDS = ['inspect', 'calibrate', 'quantize', 'eval', 'range', 'debug', 'sensitivity', 'tune'] as const;
export type Command = (typeof COMMANDS)[number];

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** The commands that take the flag. */
  readonly commands: readonly Command[];
  /** One letter alias (`-o`). */
  readonly short?: string;
  /** Repeatable: every value is kept (`--fix a=1 --fix b=2`). */
  readonly multiple?: boolean;
  /** Takes every following value up to the next flag (`--data a.png b.png`); implies multiple. */
  readonly greedy?: boolean;
}

/** The choices that make a quantization configuration (cli/flags.ts reads them). */
const CONFIG: readonly Command[] = ['calibrate', 'quantize', 'sensitivity', 'tune'];
/** Commands that calibrate and take the quantize choices. */
const CALIBRATING: readonly Command[] = ['calibrate', 'quantize', 'sensitivity', 'tune'];

/** Every flag quantscope takes. Add a flag here, with the commands that read it. */
export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  help: { type: 'boolean', short: 'h', commands: COMMANDS },
  json: { type: 'boolean', commands: ['inspect', 'calibrate', 'eval', 'range', 'debug', 'sensitivity', 'tune'] },
  output: { type: 'string', short: 'o', commands: ['calibrate', 'quantize', 'tune'] },
  fix: {
    type: 'string',
    multiple: true,
    commands: ['inspect', 'calibrate', 'quantize', 'eval', 'debug', 'sensitivity', 'tune'],
  },
  data: { type: 'string', greedy: true, commands: ['calibrate', 'quantize', 'eval', 'debug', 'sensitivity', 'tune'] },
  'target-agreement': { type: 'string', commands: ['tune'] },
  'target-sqnr': { type: 'string', commands: ['tune'] },
  'target-drop': { type: 'string', commands: ['tune'] },
  labels: { type: 'string', commands: ['sensitivity', 'tune'] },
  dictionary: { type: 'string', commands: ['sensitivity', 'tune'] },
  mode: { type: 'string', commands: CALIBRATING },
  recipe: { type: 'string', commands: ['quantize'] },
  force: { type: 'boolean', commands: ['quantize'] },
  'external-data': { type: 'boolean', commands: ['quantize'] },
  'calibration-passes': { type: 'string', commands: ['calibrate', 'quantize'] },
  'max-memory': { type: 'string', commands: ['calibrate', 'quantize'] },
  'write-recipe': { type: 'string', commands: ['quantize', 'tune'] },
  format: { type: 'string', commands: CONFIG },
  'tflite-io': { type: 'string', commands: CONFIG },
  'tflite-fc-per-channel': { type: 'boolean', commands: CONFIG },
  weights: { type: 'string', commands: CONFIG },
  activations: { type: 'string', commands: CONFIG },
  'per-tensor': { type: 'boolean', commands: CONFIG },
  'block-size': { type: 'string', commands: CONFIG },
  'symmetric-activations': { type: 'boolean', commands: CONFIG },
  exclude: { type: 'string', greedy: true, commands: CONFIG },
  preset: { type: 'string', commands: CONFIG },
  method: { type: 'string', commands: [...CALIBRATING, 'range'] },
  percentile: { type: 'string', commands: [...CALIBRATING, 'range'] },
  convention: { type: 'string', commands: [...CALIBRATING, 'range'] },
  'reduce-range': { type: 'boolean', commands: [...CALIBRATING, 'range'] },
  'per-channel': { type: 'boolean', commands: [...CALIBRATING, 'range'] },
  algorithm: { type: 'string', commands: ['calibrate', 'quantize'] },
  'gptq-damp': { type: 'string', commands: ['calibrate', 'quantize'] },
  'gptq-block': { type: 'string', commands: ['calibrate', 'quantize'] },
  'act-order': { type: 'boolean', commands: ['calibrate', 'quantize'] },
  'adaround-iters': { type: 'string', commands: ['calibrate', 'quantize'] },
  'bias-correction': { type: 'boolean', commands: ['quantize', 'tune'] },
  equalize: { type: 'boolean', commands: ['quantize', 'tune'] },
  smoothquant: { type: 'boolean', commands: ['quantize', 'tune'] },
  'smoothquant-alpha': { type: 'string', commands: ['quantize', 'tune'] },
  dtype: { type: 'string', commands: ['range'] },
  symmetric: { type: 'boolean', commands: ['range'] },
  bins: { type: 'string', commands: ['range'] },
  'quantized-bins': { type: 'string', commands: ['range'] },
  axis: { type: 'string', commands: ['range'] },
  chain: { type: 'boolean', commands: ['calibrate', 'quantize'] },
  'held-out': { type: 'string', greedy: true, commands: ['quantize', 'sensitivity', 'tune'] },
};

export interface Args {
  readonly command: Command | null;
  readonly positional: string[];
  readonly flags: Map<string, string[]>;
}

/** `--data a b c` as `--data=a --data=b --data=c`, so that util.parseArgs sees one value a flag. */
function expandGreedy(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    if (name === null || !FLAGS[name]?.greedy) {
      out.push(a);
      continue;
    }
    let taken = 0;
    while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
      out.push(`--${name}=${argv[++i]!}`);
      taken++;
    }
    if (taken === 0) throw new UsageError(`--${name} needs a value`);
  }
  return out;
}

function nearestFlag(name: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const dd = editDistance(name, c);
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

const flagsOf = (command: Command) => Object.keys(FLAGS).filter((k) => FLAGS[k]!.commands.includes(command));

/** util.parseArgs' own errors, said in quantscope's words. */
function usageErrorOf(e: unknown, command: Command | null): UsageError {
  const err = e as { code?: string; message?: string };
  const flag = /'(-[^ ']+)/.exec(err.message ?? '')?.[1] ?? '';
  const name = flag.replace(/^-+/, '').split('=')[0]!;
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const near = nearestFlag(name, command ? flagsOf(command) : Object.keys(FLAGS));
      return new UsageError(`unknown flag ${flag}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return FLAGS[name]?.type === 'boolean'
        ? new UsageError(`--${name} is a switch: it takes no value`)
        : new UsageError(`--${name} needs a value (--${name}=VALUE when it starts with "-")`);
    default:
      return new UsageError(err.message ?? String(e));
  }
}

/**
 * Parse a command line: the command (the first positional), its positionals and its flags. A flag
 * the command does not take is refused by name.
 */
export function parseArgs(argv: readonly string[]): Args {
  const options = Object.fromEntries(
    Object.entries(FLAGS).map(([k, f]) => [
      k,
      { type: f.type, multiple: Boolean(f.multiple || f.greedy), ...(f.short ? { short: f.short } : {}) },
    ]),
  );
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: expandGreedy(argv), options, strict: true, allowPositionals: true });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const first = argv.find((a) => !a.startsWith('-'));
    throw usageErrorOf(e, COMMANDS.includes(first as Command) ? (first as Command) : null);
  }
  const [first, ...positional] = parsed.positionals;
  const command = first === undefined ? null : COMMANDS.includes(first as Command) ? (first as Command) : null;
  if (first !== undefined && command === null)
    throw new UsageError(`unknown command "${first}": expected one of ${COMMANDS.join(', ')}`);
  const flags = new Map<string, string[]>();
  for (const [k, v] of Object.entries(parsed.values)) {
    if (v === undefined || v === false) continue;
    if (command && !FLAGS[k]!.commands.includes(command))
      throw new UsageError(`quantscope ${command} does not take --${k}`);
    flags.set(k, Array.isArray(v) ? v.map(String) : [String(v)]);
  }
  return { command, positional, flags };
}

export const flagValue = (a: Args, k: string): string | undefined => a.flags.get(k)?.[0];
export const hasFlag = (a: Args, k: string) => a.flags.has(k);

export function choiceFlag<T extends string>(a: Args, k: string, allowed: readonly T[], fallback: T): T {
  const v = flagValue(a, k);
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) throw new UsageError(`--${k} ${v}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

export function numberFlag(a: Args, k: string, fallback?: number): number | undefined {
  const v = flagValue(a, k);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${k} ${v}: not a number`);
  return n;
}

export function fixedInputs(a: Args): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of a.flags.get('fix') ?? []) {
    const [k, v] = f.split('=');
    if (!k || v === undefined || !Number.isInteger(Number(v)))
      throw new UsageError(`--fix ${f}: expected NAME=INTEGER`);
    out[k] = Number(v);
  }
  return out;
}
