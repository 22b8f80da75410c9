/**
 * npm run bench:scale — one narrowed experiment (6.12, baseline and early-break, uffd-populate,
 * three repetitions: six boots; kernels from the store), run three ways in one session on this
 * machine: the local executor, then BullMQ with one `kexp worker`, then with two, each side
 * allowed the same number of VMs at once per process (--jobs; KEXP_BENCH_JOBS, default 2). Local
 * and one worker alternate (KEXP_BENCH_ROUNDS rounds, default 2) and the best round of each is
 * compared. A redis-server of its own runs on a free port. Prints the wall times, the overhead of BullMQ with one worker over local (target
 * under 10 %), and the throughput with two workers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { packageRoot } from '../src/core/paths.js';
import { startRedis } from '../test/helpers/redis.js';

const root = packageRoot();
const kexpBin = join(root, 'bin/kexp.js');
const tmp = mkdtempSync(join(tmpdir(), 'kexp-bench-scale-'));
const jobs = Number(process.env.KEXP_BENCH_JOBS ?? 2);
const rounds = Number(process.env.KEXP_BENCH_ROUNDS ?? 2);
const env = { CI: '1' };
const experimentFile = join(tmp, 'scale.json');
const experiment = {
  name: 'scale',
  kernels: ['6.12'],
  variants: ['baseline', 'early-break'],
  workloads: [{ name: 'uffd-populate' }],
  sizes: [64, 128],
  repetitions: 3,
};
const cells = experiment.kernels.length * experiment.variants.length * experiment.repetitions;
writeFileSync(experimentFile, JSON.stringify(experiment));

async function timedRun(label: string, args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const r = await execa('node', [kexpBin, 'run', experimentFile, '--results', join(tmp, 'results'), '--jobs', String(jobs), '--json', ...args], {
    env,
    reject: false,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.exitCode !== 0) throw new Error(`${label}: kexp run exited ${r.exitCode}\n${r.stderr.split('\n').slice(-15).join('\n')}`);
  process.stderr.write(`${label}: ${seconds.toFixed(1)} s\n`);
  return seconds;
}

function startWorkers(url: string, count: number): ResultPromise[] {
  return Array.from({ length: count }, (_, i) =>
    execa('node', [kexpBin, 'worker', '--redis', url, '--jobs', String(jobs), '--name', `bench${i + 1}`], {
      env,
      reject: false,
      stdout: 'ignore',
      stderr: 'ignore',
    }),
  );
}

async function stopWorkers(workers: ResultPromise[]): Promise<void> {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers);
}

const redis = await startRedis(tmp);
const url = redis.url;
try {
  // Warm-up: kernels and the image into the store, the accelerator probe remembered.
  await timedRun('warm-up (local, not counted)', []);
  // Local and one worker alternate, so that a load that comes and goes on the machine (another
  // build, another VM) weighs on both; each side's best round is compared.
  const locals: number[] = [];
  const ones: number[] = [];
  let workers = startWorkers(url, 1);
  for (let round = 1; round <= rounds; round++) {
    locals.push(await timedRun(`round ${round}: local executor`, []));
    ones.push(await timedRun(`round ${round}: bullmq, 1 worker`, ['--redis', url]));
  }
  await stopWorkers(workers);
  workers = startWorkers(url, 2);
  await new Promise((r) => setTimeout(r, 2000));
  const two = await timedRun('bullmq, 2 workers', ['--redis', url]);
  await stopWorkers(workers);
  const local = Math.min(...locals);
  const one = Math.min(...ones);
  const overhead = (one / local - 1) * 100;
  console.log(
    [
      `experiment: ${cells} boots (6.12 baseline and early-break, uffd-populate, 3 repetitions), --jobs ${jobs} per process, ${cpus().length} cores, best of ${rounds} alternating rounds`,
      `local executor          ${local.toFixed(1).padStart(6)} s   ${((cells / local) * 60).toFixed(1)} cells/min   (rounds: ${locals.map((t) => t.toFixed(1)).join(', ')} s)`,
      `bullmq, 1 worker        ${one.toFixed(1).padStart(6)} s   ${((cells / one) * 60).toFixed(1)} cells/min   overhead over local ${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)} %  target < 10 %  ${overhead < 10 ? 'met' : 'NOT met'}   (rounds: ${ones.map((t) => t.toFixed(1)).join(', ')} s)`,
      `bullmq, 2 workers       ${two.toFixed(1).padStart(6)} s   ${((cells / two) * 60).toFixed(1)} cells/min   ${(one / two).toFixed(2)}x the throughput of 1 worker (both on this one machine)`,
    ].join('\n'),
  );
} finally {
  await redis.stop();
  if (!process.env.KEXP_BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
}
