#!/usr/bin/env node
// The quantscope command: the CLI as JavaScript built ahead by esbuild (scripts/build-cli.mjs, run by
// npm's `prepare` on install), so a start costs loading JavaScript, not compiling TypeScript.
//
// The commands that run models (onnxruntime-node) run in a child process this one watches. A model
// onnxruntime cannot handle can trip an assertion in its C++ code, which aborts the whole process
// (SIGABRT) before any JavaScript error is thrown: run in place, that would end the command with a
// libstdc++ message and no word from quantscope. Watched, the crash becomes a coded error naming the
// command, exit 1. `range` and `inspect` run no model and start no second process.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist-cli/quantscope.mjs', import.meta.url);
if (!existsSync(built)) {
  console.error('quantscope: error CLI_NOT_BUILT: dist-cli/quantscope.mjs is missing; run `npm run build:cli`');
  process.exit(1);
}
const argv = process.argv.slice(2);
const RUNS_MODELS = new Set(['calibrate', 'quantize', 'eval', 'debug', 'sensitivity', 'tune']);
// the command may follow flags (`quantscope --json eval ...`)
const command = argv.find((a) => RUNS_MODELS.has(a));
const CRASHES = new Set(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE']);
const STOPS = new Set(['SIGINT', 'SIGTERM', 'SIGHUP']);

if (process.env.QUANTSCOPE_WATCHED !== '1' && command) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, QUANTSCOPE_WATCHED: '1' },
  });
  // The peak-memory probe the bench and the large tests load (bench/peak-rss.mjs, through execArgv)
  // reports the child, which does the work; this process writes nothing.
  delete process.env.QS_PEAK_RSS_FILE;
  // Ctrl-C reaches both processes from the terminal: this one waits for the child to stop. A signal
  // sent to this process alone (a timeout's SIGTERM) is passed on.
  process.on('SIGINT', () => {});
  for (const s of ['SIGTERM', 'SIGHUP']) process.on(s, () => child.kill(s));
  const [code, signal] = await new Promise((done) => child.on('exit', (c, s) => done([c, s])));
  if (signal) removeSessionHeaders(child.pid);
  if (signal && CRASHES.has(signal)) {
    console.error(
      `quantscope ${command}: error NATIVE_CRASH: onnxruntime-node crashed (${signal}) inside its native code, ` +
        'on a model it cannot load or run (its own message, if any, is above). Nothing ran after the lines ' +
        'above: a file they say was written was not checked against the float model. The page ' +
        '(onnxruntime-web) reports such a model as an error instead.',
    );
    process.exitCode = 1;
  } else if (signal && !STOPS.has(signal)) {
    // stopped from outside: SIGKILL is what the kernel's out-of-memory killer sends
    console.error(
      `quantscope ${command}: error KILLED: the command was stopped by ${signal}` +
        (signal === 'SIGKILL' ? ' (the system may have run out of memory)' : ''),
    );
    process.exitCode = 1;
  } else process.exitCode = signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1);
} else {
  const { main } = await import(built.href);
  process.exitCode = await main(argv);
}

/**
 * A model with external data opens through a small header .onnx written beside its data files
 * (src/runtime/nodeModelSession.ts: `.quantscope-session-<pid>-<n>.onnx`, removed once onnxruntime has
 * read it). A child that crashed or was killed while onnxruntime read it never removed it: the
 * folders of the files the command names are cleared of the child's headers.
 */
function removeSessionHeaders(pid) {
  const folders = new Set();
  for (const a of argv) {
    try {
      const p = resolve(a);
      folders.add(statSync(p).isDirectory() ? p : dirname(p));
    } catch {
      // not a path; an output not written yet lies in a folder named by another argument or not at all
    }
  }
  const mine = `.quantscope-session-${pid}-`;
  for (const folder of folders) {
    try {
      for (const f of readdirSync(folder)) if (f.startsWith(mine)) rmSync(join(folder, f), { force: true });
    } catch {
      // a folder that cannot be read holds none of ours
    }
  }
}
