/** The command line as a user runs it: `node bin/quantscope.mjs ARGS` in a child process. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './sample';

const run = promisify(execFile);
const BIN = join(ROOT, 'bin', 'quantscope.mjs');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built command; a non-zero exit is returned (its code and output), not thrown. */
export async function runCli(...args: string[]): Promise<CliResult> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 240_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** sha256 of a file's bytes, hex. */
export const sha256File = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
