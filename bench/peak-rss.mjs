// Loaded with `node --import` into a process the bench measures: on exit, its peak resident memory
// (getrusage's ru_maxrss, the whole process) goes to the file QS_PEAK_RSS_FILE names.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.QS_PEAK_RSS_FILE)
    writeFileSync(process.env.QS_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS * 1024));
});
