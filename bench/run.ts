/**
 * npm run bench:run — the default experiment as a user meets it, in one run on this machine:
 * first with cold caches (a fresh artifact cache and ccache off: extraction, clean builds of both
 * kernels, every variant, the image, every boot), then again with nothing changed (store hits
 * and boots only). Prints both wall times against the targets (10 min and 60 s) and the ratio,
 * and what the cold run spent besides make and the boots: its total against the sum of the
 * builds' make times (their records' timings) and the wall time during which cells booted (each
 * cell's seconds, ending when its record was written). Target: total <= 1.10 x that sum.
 * `npm run bench:run -- --warm`: only the warm run, on the cache kexp already has, repeated.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../src/core/paths.js';
import type { BuildRecord } from '../src/kernel/build.js';
import type { RunManifest } from '../src/results/store.js';

const root = packageRoot();
/** `--warm`: only the nothing-changed run, against the cache kexp already has (KEXP_CACHE or the default), repeated. */
const warmOnly = process.argv.includes('--warm');
const cache = warmOnly ? undefined : mkdtempSync(join(tmpdir(), 'kexp-bench-run-cache-'));
const results = mkdtempSync(join(tmpdir(), 'kexp-bench-run-results-'));
const env: Record<string, string> = cache ? { KEXP_CACHE: cache, KEXP_RESULTS: results, CCACHE_DISABLE: '1', CI: '1' } : { KEXP_RESULTS: results, CI: '1' };
const experiment = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'default';
const OVERHEAD_TARGET = 1.1;

interface TimedRun {
  seconds: number;
  exitCode: number;
  run: string;
  dir: string | undefined;
}

async function timedRun(label: string): Promise<TimedRun> {
  const started = process.hrtime.bigint();
  const r = await execa('node', [join(root, 'bin/kexp.js'), 'run', experiment, '--json'], { env, reject: false, stderr: 'inherit' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const out = JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as { run?: string; dir?: string };
  process.stderr.write(`${label}: ${seconds.toFixed(1)} s, exit ${r.exitCode}\n`);
  return { seconds, exitCode: r.exitCode ?? -1, run: out.run ?? '?', dir: out.dir };
}

interface Breakdown {
  builds: number;
  make: number;
  /** Other build phases summed over the builds: prepareTree, configure, store, ... */
  phases: Record<string, number>;
  cells: number;
  /** Wall time during which at least one cell ran. */
  bootWall: number;
  /** The cells' seconds added up (more than the wall time when cells run side by side). */
  bootSum: number;
}

/** Seconds covered by at least one of the intervals. Pure. */
function unionSeconds(intervals: readonly [number, number][]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of sorted) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

/** What the run's records say it spent: make per build (from the store's build.json) and the cells. */
function breakdown(dir: string): Breakdown {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
  const phases: Record<string, number> = {};
  let make = 0;
  let builds = 0;
  for (const artifact of Object.values(manifest.artifacts.kernels)) {
    if (!artifact.key || artifact.cached) continue;
    const record = JSON.parse(readFileSync(join(cache!, 'store', 'kernels', artifact.key, 'build.json'), 'utf8')) as BuildRecord;
    builds++;
    make += record.timings.make ?? 0;
    for (const [phase, seconds] of Object.entries(record.timings)) if (phase !== 'make' && phase !== 'total') phases[phase] = (phases[phase] ?? 0) + seconds;
  }
  const intervals: [number, number][] = [];
  let bootSum = 0;
  for (const [id, cell] of Object.entries(manifest.cells)) {
    if (cell.state !== 'done' || cell.seconds === undefined) continue;
    const record = join(dir, 'cells', id, 'cell.json');
    const end = existsSync(record) ? statSync(record).mtimeMs / 1000 : NaN;
    bootSum += cell.seconds;
    if (Number.isFinite(end)) intervals.push([end - cell.seconds, end]);
  }
  return { builds, make, phases, cells: intervals.length, bootWall: unionSeconds(intervals), bootSum };
}

/** Warm runs only: one to fill what is missing, then BENCH_ROUNDS timed ones; prints their median. */
async function warmRuns(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const fill = await timedRun('filling run (not counted)');
  if (fill.exitCode !== 0) throw new Error(`the filling run exited ${fill.exitCode}`);
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) times.push((await timedRun(`warm run ${i + 1}/${rounds}`)).seconds);
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    `experiment ${experiment}, warm runs: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} s (${times.map((t) => t.toFixed(1)).join(', ')})`,
  );
}

try {
  if (warmOnly) await warmRuns();
  else await coldThenWarm();
} finally {
  if (!process.env.KEXP_BENCH_KEEP) {
    if (cache) rmSync(cache, { recursive: true, force: true });
    rmSync(results, { recursive: true, force: true });
  }
}

async function coldThenWarm(): Promise<void> {
  const cold = await timedRun('first run, cold caches');
  const coldDir = cold.dir ?? join(results, cold.run);
  const b = existsSync(join(coldDir, 'manifest.json')) ? breakdown(coldDir) : undefined;
  const warm = await timedRun('second run, nothing changed');
  const lines = [
    `experiment ${experiment}, ${(await execa('nproc')).stdout} cores`,
    `first run (cold caches, ccache off)  ${(cold.seconds / 60).toFixed(1).padStart(6)} min  target < 10 min  ${cold.seconds < 600 ? 'met' : 'NOT met'}  (run ${cold.run}, exit ${cold.exitCode})`,
    `second run (nothing changed)         ${warm.seconds.toFixed(1).padStart(6)} s    target < 60 s    ${warm.seconds < 60 ? 'met' : 'NOT met'}  (run ${warm.run}, exit ${warm.exitCode})`,
    `ratio second / first                 ${(warm.seconds / cold.seconds).toFixed(3)}`,
  ];
  if (b) {
    const sum = b.make + b.bootWall;
    const ratio = cold.seconds / sum;
    lines.push(
      `first run: total ${cold.seconds.toFixed(1)} s; make ${b.make.toFixed(1)} s (${b.builds} builds) + boots ${b.bootWall.toFixed(1)} s (wall time of ${b.cells} cells; ${b.bootSum.toFixed(1)} s summed over them) = ${sum.toFixed(1)} s`,
      `ratio total / (make + boots)         ${ratio.toFixed(3)}  target <= ${OVERHEAD_TARGET.toFixed(2)}  ${ratio <= OVERHEAD_TARGET ? 'met' : 'NOT met'}  (besides make and boots: ${(cold.seconds - sum).toFixed(1)} s)`,
      `build phases besides make, summed:   ${Object.entries(b.phases)
        .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
        .join(', ')}`,
    );
  } else {
    lines.push(`first run: no manifest in ${coldDir}; cannot split its time`);
  }
  console.log(lines.join('\n'));
}
