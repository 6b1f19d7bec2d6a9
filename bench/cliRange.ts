/**
 * The command line as an installed command runs it (node bin/quantscope.mjs, JavaScript built ahead by
 * esbuild): `quantscope range` on one 4M-float tensor with onnxruntime's 2048-bin entropy search, the
 * whole process timed and its peak memory read (median of 3). Issue 16 measured it at 0.72 s and
 * 300 MiB started through tsx, against 0.41-0.49 s and 76 MiB for onnxruntime's own numpy math run as
 * a script: the goal is under that reference's 0.41 s and under 100 MiB.
 *   cli_range_4m_entropy_s, cli_range_4m_entropy_peak_rss_mb
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from '../src/core/metrics';
import { mulberry32, normalSampler } from '../src/core/random';
import { makeNpy } from '../test/helpers/npy';
import { ROOT } from '../test/helpers/sample';
// @ts-expect-error: a plain .mjs script
import { buildCli } from '../scripts/build-cli.mjs';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;

export async function benchCliRange(emit: Emit, dir: string): Promise<void> {
  await (buildCli as () => Promise<string>)();
  const n = normalSampler(mulberry32(16));
  const x = Float32Array.from({ length: 4 * 2 ** 20 }, () => n());
  const npy = join(dir, 'x4m.npy');
  writeFileSync(npy, makeNpy('<f4', [x.length], x));
  const rssFile = join(dir, 'peak-rss');
  const times: number[] = [];
  const peaks: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    execFileSync(
      process.execPath,
      [
        '--import',
        pathToFileURL(join(ROOT, 'bench', 'peak-rss.mjs')).href,
        join(ROOT, 'bin', 'quantscope.mjs'),
        'range',
        npy,
        '--method',
        'entropy',
        '--bins',
        '2048',
        '--json',
      ],
      { stdio: 'pipe', env: { ...process.env, QS_PEAK_RSS_FILE: rssFile } },
    );
    times.push((performance.now() - t0) / 1000);
    peaks.push(Number(readFileSync(rssFile, 'utf8')) / 2 ** 20);
  }
  const note = 'node bin/quantscope.mjs range (4M float32, entropy, 2048 bins), whole process, median of 3';
  emit('cli_range_4m_entropy_s', median(times), 's', {
    target: 0.41,
    reference: "onnxruntime's numpy math as a script: 0.41-0.49 s, 76 MiB (issue 16)",
    before: 0.72,
    note,
  });
  emit('cli_range_4m_entropy_peak_rss_mb', median(peaks), 'MiB', { target: 100, before: 300, note });
}
