/**
 * The command line's guard line (cli/guard.ts, reportVerdict): a met target on stdout, a miss on stderr
 * with what can change it: for a TFLite int8 file only the method (it is int8 throughout), for the ONNX
 * forms the method, 16-bit activations or the nodes kept float.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GuardVerdict } from '../../src/core/guard';
import { reportVerdict } from '../../src/cli/guard';

const missed: GuardVerdict = {
  output: 'prob',
  metric: 'output SQNR',
  value: 9.7,
  target: 20,
  passed: false,
  samples: 4,
  source: '4 held-out samples',
};

afterEach(() => vi.restoreAllMocks());

describe('reportVerdict', () => {
  it('a miss on an ONNX form: another method, int16 activations or --exclude (tune searches them)', () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    reportVerdict(missed);
    expect(err).toHaveBeenCalledWith(
      'warning: the export misses the target: output SQNR 9.7 dB on output prob, under the 20.0 dB target (4 held-out samples). Try another --method, --activations int16, or --exclude the nodes at fault (quantscope tune searches for it)',
    );
  });
  it('a miss on a TFLite int8 file: only another method, and why', () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    reportVerdict(missed, undefined, true);
    const line = err.mock.calls[0]![0] as string;
    expect(line).toMatch(
      /^warning: the export misses the target: output SQNR 9\.7 dB .*\. Try another --method: a TFLite int8 file is int8 throughout/,
    );
    expect(line).not.toMatch(/--activations int16, or/);
  });
  it('a met target is one line on stdout', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    reportVerdict({ ...missed, value: 25, passed: true });
    expect(out).toHaveBeenCalledWith(
      'check: output SQNR 25.0 dB on output prob, meets the 20.0 dB target (4 held-out samples)',
    );
  });
});
