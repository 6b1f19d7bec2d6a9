/**
 * The page's memory as the operating system sees it: the peak resident set (VmHWM, /proc/PID/status)
 * of the Chromium renderer processes this test process launched, not the JavaScript heap. Chromium's
 * renderers (the page and its workers, the wasm heap included) are descendants of the browser process,
 * itself a child of this Playwright worker, so other runs on the machine are never counted. Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly renderer: boolean;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces: the fields after it are fixed
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // Chromium rewrites a forked child's command line (setproctitle): its arguments may be space-separated
    return { pid, ppid, renderer: /(^|[\s\0])--type=renderer([\s\0]|$)/.test(cmdline) };
  } catch {
    return null; // gone meanwhile, or not ours to read
  }
}

/** VmHWM in bytes of one process (0 when it has gone). */
function peakResident(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Each renderer descended from this process, with its peak resident bytes. */
export function rendererPeaks(root = process.pid): { pid: number; vmHwmBytes: number }[] {
  const procs = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== null);
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: { pid: number; vmHwmBytes: number }[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      if (c.renderer) out.push({ pid: c.pid, vmHwmBytes: peakResident(c.pid) });
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}

/** The largest renderer's peak resident bytes: the page's (its workers and wasm heap run in it). */
export function rendererPeakBytes(root = process.pid): number {
  return Math.max(0, ...rendererPeaks(root).map((r) => r.vmHwmBytes));
}
