/**
 * The recipe: everything that decides an export's bytes, as a versioned JSON document (schema:
 * recipe.schema.json, served at /recipe.schema.json). The model is named by its sha256; the data
 * itself stays with the user (only its description is recorded); the ranges are stored as float32 so
 * that `quantscope quantize --recipe` rebuilds the same file without calibrating.
 */
import type { QuantConfig } from './config';
import { QuantscopeError } from './errors';
import { f32 } from './rounding';
import schema from './recipe.schema.json';

export const RECIPE_VERSION = 1;

export interface RecipeDataDescription {
  readonly kind: 'images' | 'tensors' | 'generated' | 'none';
  readonly count: number;
  /** Image preprocessing (normalisation, channels, layout, size), when images fed the model. */
  readonly preprocessing?: Readonly<Record<string, unknown>> | null;
  readonly generated?: Readonly<Record<string, unknown>>;
  readonly dimValues?: Readonly<Record<string, number>>;
}

export interface Recipe {
  readonly $schema?: string;
  readonly quantscope: number;
  readonly model: { readonly fileName: string; readonly sha256: string; readonly bytes: number };
  readonly preparation: { readonly fixedInputs: Readonly<Record<string, number>>; readonly log: readonly string[] };
  readonly calibration: {
    readonly mode: 'streaming' | 'onnxruntime-exact';
    readonly bins: number;
    readonly backend: string;
    readonly data: RecipeDataDescription;
  } | null;
  readonly config: QuantConfig;
  /** Per calibrated tensor: [rmin, rmax] as float32, or null (it stays float). */
  readonly ranges: Readonly<Record<string, readonly [number, number] | null>>;
}

export const RECIPE_SCHEMA = schema;

/** Ranges as the recipe stores them (float32), and back as the export takes them. */
export function rangesToRecipe(
  ranges: ReadonlyMap<string, { rmin: number; rmax: number } | null>,
): Record<string, [number, number] | null> {
  const out: Record<string, [number, number] | null> = {};
  for (const [t, r] of [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
    out[t] = r ? [f32(r.rmin), f32(r.rmax)] : null;
  return out;
}

export function rangesFromRecipe(recipe: Recipe): Map<string, { rmin: number; rmax: number } | null> {
  return new Map(Object.entries(recipe.ranges).map(([t, r]) => [t, r ? { rmin: f32(r[0]), rmax: f32(r[1]) } : null]));
}

/**
 * The recipe of an export: what the page's Download recipe and `quantscope quantize --write-recipe`
 * both write (one builder, so they agree field for field). The configuration is copied through JSON,
 * so the recipe holds plain data only.
 */
export function buildRecipe(parts: {
  readonly model: Recipe['model'];
  readonly preparation: Recipe['preparation'];
  readonly calibration: Recipe['calibration'];
  readonly config: QuantConfig;
  /** The ranges the export used; null for forms that need none. */
  readonly ranges: ReadonlyMap<string, { rmin: number; rmax: number } | null> | null;
}): Recipe {
  return {
    $schema: 'recipe.schema.json',
    quantscope: RECIPE_VERSION,
    model: { ...parts.model },
    preparation: { fixedInputs: { ...parts.preparation.fixedInputs }, log: [...parts.preparation.log] },
    calibration: parts.calibration,
    config: JSON.parse(JSON.stringify(parts.config)) as QuantConfig,
    ranges: parts.ranges ? rangesToRecipe(parts.ranges) : {},
  };
}

/** Recipes written with a stable key order and two-space indentation, so that they diff well. */
export function serializeRecipe(r: Recipe): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

// --- validation: the subset of JSON Schema the recipe's schema uses ---------------------------------

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode | SchemaNode[];
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  pattern?: string;
  oneOf?: SchemaNode[];
  $ref?: string;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function resolve(node: SchemaNode, root: SchemaNode & { $defs?: Record<string, SchemaNode> }): SchemaNode {
  if (!node.$ref) return node;
  const name = node.$ref.replace('#/$defs/', '');
  const target = root.$defs?.[name];
  if (!target) throw new Error(`schema: unknown $ref ${node.$ref}`);
  return target;
}

/** Problems found, each naming the field by its JSON path ($.config.activations.dtype). */
export function validateAgainst(value: unknown, node: SchemaNode, path: string, root: SchemaNode, out: string[]): void {
  const n = resolve(node, root);
  if (n.oneOf) {
    const errs = n.oneOf.map((alt) => {
      const e: string[] = [];
      validateAgainst(value, alt, path, root, e);
      return e;
    });
    if (!errs.some((e) => e.length === 0))
      out.push(...(errs.sort((a, b) => a.length - b.length)[0] ?? [`${path}: matches none of the allowed forms`]));
    return;
  }
  if (n.type) {
    const types = Array.isArray(n.type) ? n.type : [n.type];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) {
      out.push(
        `${path}: expected ${types.join(' or ')}, found ${t === 'object' || t === 'array' ? t : JSON.stringify(value)}`,
      );
      return;
    }
  }
  if (n.const !== undefined && value !== n.const)
    out.push(`${path}: must be ${JSON.stringify(n.const)}, found ${JSON.stringify(value)}`);
  if (n.enum && !n.enum.includes(value))
    out.push(
      `${path}: must be one of ${n.enum.map((e) => JSON.stringify(e)).join(', ')}, found ${JSON.stringify(value)}`,
    );
  if (typeof value === 'number' && n.minimum !== undefined && value < n.minimum)
    out.push(`${path}: must be at least ${n.minimum}, found ${value}`);
  if (typeof value === 'string' && n.pattern && !new RegExp(n.pattern).test(value))
    out.push(`${path}: ${JSON.stringify(value)} does not match ${n.pattern}`);
  if (Array.isArray(value)) {
    if (n.minItems !== undefined && value.length < n.minItems) out.push(`${path}: needs at least ${n.minItems} items`);
    if (n.maxItems !== undefined && value.length > n.maxItems) out.push(`${path}: takes at most ${n.maxItems} items`);
    if (Array.isArray(n.items))
      n.items.forEach((s, i) => i < value.length && validateAgainst(value[i], s, `${path}[${i}]`, root, out));
    else if (n.items) value.forEach((v, i) => validateAgainst(v, n.items as SchemaNode, `${path}[${i}]`, root, out));
  } else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of n.required ?? []) if (!(r in obj)) out.push(`${path}.${r}: is required`);
    for (const [k, v] of Object.entries(obj)) {
      const p = n.properties?.[k];
      if (p) validateAgainst(v, p, `${path}.${k}`, root, out);
      else if (n.additionalProperties === false) out.push(`${path}.${k}: is not a recipe field`);
      else if (typeof n.additionalProperties === 'object')
        validateAgainst(v, n.additionalProperties, `${path}.${k}`, root, out);
    }
  }
}

/** Parse and validate a recipe: a clear error naming the field, or the recipe. */
export function parseRecipe(text: string, source = 'recipe'): Recipe {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new QuantscopeError('BAD_DATA', `${source}: not JSON (${(e as Error).message})`);
  }
  const v = value as { quantscope?: unknown };
  if (value && typeof value === 'object' && typeof v.quantscope === 'number' && v.quantscope !== RECIPE_VERSION) {
    throw new QuantscopeError(
      'BAD_DATA',
      `${source}: recipe version ${v.quantscope} is not one this Quantscope reads (it reads version ${RECIPE_VERSION})`,
    );
  }
  const problems: string[] = [];
  validateAgainst(value, schema as SchemaNode, '$', schema as SchemaNode, problems);
  if (problems.length)
    throw new QuantscopeError(
      'BAD_DATA',
      `${source}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`,
    );
  return value as Recipe;
}
