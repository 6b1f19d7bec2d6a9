/** Command-line arguments: positionals, flags with values, boolean flags; usage errors exit 2. */
export class UsageError extends Error {}

export interface Args {
  readonly positional: string[];
  readonly flags: Map<string, string[]>;
}

const BOOLEAN = new Set([
  'json',
  'force',
  'per-channel',
  'per-tensor',
  'symmetric-activations',
  'symmetric',
  'reduce-range',
  'help',
]);

export function parseArgs(argv: readonly string[]): Args {
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

export const one = (a: Args, k: string): string | undefined => a.flags.get(k)?.[0];
export const has = (a: Args, k: string) => a.flags.has(k);

export function choice<T extends string>(a: Args, k: string, allowed: readonly T[], fallback: T): T {
  const v = one(a, k);
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) throw new UsageError(`--${k} ${v}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

export function numberFlag(a: Args, k: string, fallback?: number): number | undefined {
  const v = one(a, k);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${k} ${v}: not a number`);
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
