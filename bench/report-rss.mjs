// Preloaded into every measured node process (node --import): on exit, append the process's peak
// resident set size in bytes to the file named by PFEXPOSE_BENCH_RSS, so the bench can report
// peak memory without depending on GNU time.
import { appendFileSync } from 'node:fs';

const target = process.env.PFEXPOSE_BENCH_RSS;
if (target) {
  process.on('exit', () => {
    appendFileSync(target, `${process.resourceUsage().maxRSS * 1024}\n`);
  });
}
