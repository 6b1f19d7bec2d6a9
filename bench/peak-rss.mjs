// Loaded with `node --import` into a process the bench measures: on exit, its peak resident memory
// goes to the file QS_PEAK_RSS_FILE names. On Linux that is /proc/self/status's VmHWM, the peak of
// this program's own address space: getrusage's ru_maxrss also keeps the peak of the process before
// its exec, which for a child of the bench is the forked copy of the bench itself (a bench that had
// run other sections first read 95-123 MiB there for an 84 MiB command). Elsewhere, ru_maxrss.
import { readFileSync, writeFileSync } from 'node:fs';

function peakBytes() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

process.on('exit', () => {
  if (process.env.QS_PEAK_RSS_FILE) writeFileSync(process.env.QS_PEAK_RSS_FILE, String(peakBytes()));
});
