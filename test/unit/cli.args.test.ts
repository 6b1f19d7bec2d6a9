/**
 * The command line's strict parser: every flag is declared, so a misspelled, unknown or misplaced
 * flag is a usage error naming it, and `--data A B ...` still takes every value up to the next flag.
 */
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args';
import { configFromFlags, conventionFlag } from '../../src/cli/flags';

const usage = (argv: string[]) => {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
};

describe('quantscope arguments', () => {
  it('takes the command, its positionals, -o and greedy --data / --exclude', () => {
    const a = parseArgs(['quantize', 'm.onnx', '--data', 'a.png', 'b.png', 'c/', '-o', 'out.onnx']);
    expect(a.command).toBe('quantize');
    expect(a.positional).toEqual(['m.onnx']);
    expect(a.flags.get('data')).toEqual(['a.png', 'b.png', 'c/']);
    expect(a.flags.get('output')).toEqual(['out.onnx']);
    const e = parseArgs(['quantize', 'm.onnx', '--exclude', 'n1', 'n2', '--method', 'mse', '--data', 'd', '-o', 'x']);
    expect(e.flags.get('exclude')).toEqual(['n1', 'n2']);
    expect(e.flags.get('method')).toEqual(['mse']);
    expect(e.flags.get('data')).toEqual(['d']);
    const fixes = parseArgs(['inspect', 'm.onnx', '--fix', 'sr=16000', '--fix', 'x=1']);
    expect(fixes.flags.get('fix')).toEqual(['sr=16000', 'x=1']);
    expect(parseArgs(['range', 't.npy', '--axis=-1']).flags.get('axis')).toEqual(['-1']);
  });

  it('refuses an unknown or misspelled flag, with the nearest one', () => {
    expect(usage(['quantize', 'm.onnx', '--calibrator', 'kl', '-o', 'x'])).toMatch(/unknown flag --calibrator/);
    expect(usage(['quantize', 'm.onnx', '--algorythm', 'gptq', '-o', 'x'])).toMatch(
      /unknown flag --algorythm \(did you mean --algorithm\?\)/,
    );
    expect(usage(['quantize', 'm.onnx', '--frobnicate', '-o', 'x'])).toMatch(/^unknown flag --frobnicate$/);
    expect(usage(['quantize', 'm.onnx', '--prest', 'fbgemm', '-o', 'x'])).toMatch(/did you mean --preset\?/);
    expect(usage(['range', 't.npy', '--preset', 'fbgemm'])).toMatch(/--preset/);
    expect(usage(['quantize', 'm.onnx', '--metod', 'mse'])).toMatch(/unknown flag --metod \(did you mean --method\?\)/);
    expect(usage(['calibrate', 'm.onnx', '--dta', 'd'])).toMatch(/did you mean --data\?/);
  });

  it("refuses a flag the command does not take, a switch given a value and a flag's missing value", () => {
    expect(usage(['inspect', 'm.onnx', '--method', 'mse'])).toBe('quantscope inspect does not take --method');
    expect(usage(['range', 't.npy', '--format', 'qdq'])).toBe('quantscope range does not take --format');
    expect(usage(['inspect', 'm.onnx', '--json=yes'])).toMatch(/--json is a switch: it takes no value/);
    expect(usage(['range', 't.npy', '--method'])).toMatch(/--method needs a value/);
    expect(usage(['range', 't.npy', '--axis', '-1'])).toMatch(/--axis needs a value \(--axis=VALUE/);
    expect(usage(['calibrate', 'm.onnx', '--data', '-o', 'x'])).toMatch(/--data needs a value/);
    expect(usage(['frobnicate', 'm.onnx'])).toMatch(/unknown command "frobnicate"/);
  });

  it('one vocabulary: --convention onnxruntime|pytorch for every command (no "ort")', () => {
    expect(conventionFlag(parseArgs(['range', 't.npy']))).toBe('onnxruntime');
    expect(conventionFlag(parseArgs(['range', 't.npy', '--convention', 'pytorch']))).toBe('pytorch');
    expect(() => conventionFlag(parseArgs(['range', 't.npy', '--convention', 'ort']))).toThrow(
      /--convention ort: expected one of onnxruntime, pytorch/,
    );
    const c = configFromFlags(parseArgs(['quantize', 'm.onnx', '--convention', 'pytorch', '-o', 'x']));
    expect(c.activations.convention).toBe('pytorch');
    expect(c.weights.convention).toBe('pytorch');
    expect(() => configFromFlags(parseArgs(['quantize', 'm', '--convention', 'ort', '-o', 'x']))).toThrow(
      /expected one of onnxruntime, pytorch/,
    );
  });

  it('refuses with --format tflite (int8) the choices a TFLite int8 file cannot hold, by name', () => {
    const config = (...flags: string[]) =>
      configFromFlags(parseArgs(['quantize', 'm.onnx', '--format', 'tflite', ...flags, '-o', 'x']));
    expect(() => config('--activations', 'int16')).toThrow(
      /^--activations int16: a TFLite int8 file is int8 throughout by TFLite's int8 specification .*; give --format qdq for it$/,
    );
    expect(() => config('--weights', 'int4', '--per-tensor', '--exclude', 'conv1')).toThrow(
      /^--weights int4, --per-tensor, --exclude: .*give --format qdq for them$/,
    );
    expect(() => config('--symmetric-activations')).toThrow(/^--symmetric-activations: /);
    // what it holds is taken: the method, reduce-range, int8 named explicitly
    expect(config('--method', 'entropy', '--reduce-range', '--activations', 'int8').activations.method).toBe('entropy');
    // the same choices with static QDQ are fine
    expect(
      configFromFlags(parseArgs(['quantize', 'm.onnx', '--activations', 'int16', '--exclude', 'conv1', '-o', 'x']))
        .excludeNodes,
    ).toEqual(['conv1']);
  });
});
