/**
 * npm run bench:run — the default experiment as a user meets it, in one run on this machine:
 * first with cold caches (a fresh artifact cache and ccache off: extraction, clean builds of both
 * kernels, every variant, the image, every boot), then again with nothing changed (store hits
 * and boots only). Prints both wall times against the targets (10 min and 60 s) and the ratio.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../src/core/paths.js';

const root = packageRoot();
const cache = mkdtempSync(join(tmpdir(), 'kexp-bench-run-cache-'));
const results = mkdtempSync(join(tmpdir(), 'kexp-bench-run-results-'));
const env = { KEXP_CACHE: cache, KEXP_RESULTS: results, CCACHE_DISABLE: '1', CI: '1' };
const experiment = process.argv[2] ?? 'default';

async function timedRun(label: string): Promise<{ seconds: number; exitCode: number; run: string }> {
  const started = process.hrtime.bigint();
  const r = await execa('node', [join(root, 'bin/kexp.js'), 'run', experiment, '--json'], { env, reject: false, stderr: 'inherit' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { run?: string };
  process.stderr.write(`${label}: ${seconds.toFixed(1)} s, exit ${r.exitCode}\n`);
  return { seconds, exitCode: r.exitCode ?? -1, run: out.run ?? '?' };
}

try {
  const cold = await timedRun('first run, cold caches');
  const warm = await timedRun('second run, nothing changed');
  console.log([
    `experiment ${experiment}, ${(await execa('nproc')).stdout} cores`,
    `first run (cold caches, ccache off)  ${(cold.seconds / 60).toFixed(1).padStart(6)} min  target < 10 min  ${cold.seconds < 600 ? 'met' : 'NOT met'}  (run ${cold.run}, exit ${cold.exitCode})`,
    `second run (nothing changed)         ${warm.seconds.toFixed(1).padStart(6)} s    target < 60 s    ${warm.seconds < 60 ? 'met' : 'NOT met'}  (run ${warm.run}, exit ${warm.exitCode})`,
    `ratio second / first                 ${(warm.seconds / cold.seconds).toFixed(3)}`,
  ].join('\n'));
} finally {
  if (!process.env.KEXP_BENCH_KEEP) {
    rmSync(cache, { recursive: true, force: true });
    rmSync(results, { recursive: true, force: true });
  }
}
