/**
 * A worker fault without kernels (issue 14, item 5): a fleet of real `kexp worker` processes on a
 * redis-server of the test's own, building the fake kernel tree (test/helpers/fake-kernel-tree.ts)
 * and booting the fake QEMU (test/fakes/). A worker is SIGKILLed while its cell's QEMU runs (the
 * fake one hangs there): its QEMU must not outlive it, and another worker must finish the cell,
 * each cell recorded once; or stopped with SIGTERM, and hands the cell back. Apart from the orchestration tests because BullMQ takes a killed
 * worker's job over only after its lock expires (src/fleet/timing.ts: about 15 + 10 s).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFakeKernelTree } from '../helpers/fake-kernel-tree.js';
import { fakeQemuCalls, fakeQemuEnv, killLeftoverFakes, processAlive } from '../helpers/fake-qemu.js';
import { kexp, kexpChild } from '../helpers/kexp.js';
import { type LocalRedis, startRedis } from '../helpers/redis.js';
import { STOP_BOUND_S } from '../../src/fleet/timing.js';

type Child = ResultPromise<{ reject: false }>;

let work = '';
let redis: LocalRedis | undefined;
const children: Child[] = [];

let root = '';
let experiment = '';
let coordinatorCache = '';
let shared = '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kexp-orchestration-fleet-'));
  mkdirSync(join(work, 'redis'));
  redis = await startRedis(join(work, 'redis'));
  // A project root whose recipe is the fake tree (the workers see it: same machine, same path).
  root = join(work, 'root');
  const tree = writeFakeKernelTree(join(work, 'linux'), { salt: 'fleet' });
  mkdirSync(join(root, 'kernels'), { recursive: true });
  writeFileSync(
    join(root, 'kernels', 'fake.json'),
    JSON.stringify({
      name: 'fake',
      series: '6.12',
      source: { type: 'tree', path: tree },
      fragments: ['base', 'mm-syscalls', 'tracing', 'kvm-host', 'kvm-guest'],
    }),
  );
  experiment = join(root, 'fleet-fake.json');
  writeFileSync(
    experiment,
    JSON.stringify({
      name: 'fleet-fake',
      kernels: ['fake'],
      variants: ['baseline'],
      workloads: [{ name: 'uffd-populate' }],
      sizes: [64, 128],
      repetitions: 2,
      collectors: ['ftrace', 'kprobe'],
      functions: ['__get_user_pages', 'handle_userfault'],
      accel: 'tcg',
      // Long enough that the hanging worker is still in QEMU when it is stopped.
      timeouts: { watchdogSeconds: 120, bootSeconds: 300 },
    }),
  );
  shared = join(work, 'shared');
  // The coordinator builds the guest image, with gen_init_cpio from the first source tree in its
  // cache: without one, it would extract usr/gen_init_cpio.c from Debian's kernel tarball
  // (about 15 s). A build of the fake kernel there puts the fake tree's stand-in in its cache.
  coordinatorCache = join(work, 'cache-coordinator');
  const built = await kexp(['build', '--kernel', 'fake'], { KEXP_ROOT: root, KEXP_CACHE: coordinatorCache });
  expect(built.exitCode, built.stderr).toBe(0);
});
afterAll(async () => {
  for (const child of children) {
    child.kill('SIGKILL');
    await child;
  }
  await redis?.stop();
  if (work)
    killLeftoverFakes(
      readdirSync(work)
        .filter((f) => f.endsWith('-qemu-calls.jsonl'))
        .map((f) => join(work, f)),
    );
  if (work) rmSync(work, { recursive: true, force: true });
});

async function waitUntil<T>(probe: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`no ${what} within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Manifest {
  state: string;
  plannedCells: string[];
  cells: Record<string, { state: string; status?: string; worker?: string }>;
}

/** A worker on its own Redis database (one per test, so that no job crosses tests), booting the fake QEMU with this scenario. */
function startWorker(name: string, scenario: 'hang' | 'ok', db: number): { child: Child; calls: string } {
  const calls = join(work, `${name}-qemu-calls.jsonl`);
  const child = kexpChild(['worker', '--redis', `${redis!.url}/${db}`, '--store', shared, '--jobs', '1', '--name', name], {
    ...fakeQemuEnv(scenario, calls),
    KEXP_ROOT: root,
    KEXP_CACHE: join(work, `cache-${name}`),
  });
  children.push(child);
  return { child, calls };
}

function startRun(db: number, results: string): { child: Child; calls: string } {
  const calls = join(work, `coordinator-${db}-qemu-calls.jsonl`);
  const child = kexpChild(['run', experiment, '--executor', 'bullmq', '--redis', `${redis!.url}/${db}`, '--store', shared, '--results', results], {
    ...fakeQemuEnv('ok', calls),
    KEXP_ROOT: root,
    KEXP_CACHE: coordinatorCache,
  });
  children.push(child);
  return { child, calls };
}

/** The first boot of a worker: its pid, and the cell it boots (named by its output folder, <cache>/logs/fleet/<run>-<cell>-<pid>-<n>/). */
async function firstBoot(worker: { calls: string }): Promise<{ pid: number; cell: string }> {
  const [call] = await waitUntil(() => fakeQemuCalls(worker.calls).length > 0 && fakeQemuCalls(worker.calls), 60_000, 'a QEMU started by the worker');
  const outFile = call!.argv.find((arg) => arg.startsWith('file:'))!.slice('file:'.length);
  const cell = /-(fake_baseline_r\d+)-\d+-\d+\/channel\.txt$/.exec(outFile)?.[1];
  expect(cell, `the cell in the worker's QEMU (${outFile})`).toMatch(/^fake_baseline_r[01]$/);
  return { pid: call!.pid, cell: cell! };
}

/** The run finished by the second worker: complete, every cell ok once, the victim cell by that worker. */
function expectFinishedBy(results: string, victim: string, worker: string): void {
  const [runId] = readdirSync(results);
  const dir = join(results, runId!);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  expect(manifest.state).toBe('complete');
  expect(manifest.cells[victim]).toMatchObject({ state: 'done', status: 'ok', worker });
  for (const id of manifest.plannedCells) expect(manifest.cells[id]).toMatchObject({ state: 'done', status: 'ok' });
  const samples = readFileSync(join(dir, 'samples.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { cell: string; pages: number });
  expect(samples.map((s) => `${s.cell}/${s.pages}`).sort()).toEqual([
    'fake_baseline_r0/128',
    'fake_baseline_r0/64',
    'fake_baseline_r1/128',
    'fake_baseline_r1/64',
  ]);
  expect(existsSync(join(dir, 'cells', victim, 'cell.json'))).toBe(true);
}

describe('a fleet of workers on the fake kernel tree and the fake QEMU', () => {
  it('a worker SIGKILLed mid-boot: its QEMU is reaped, another worker finishes the cell, every cell recorded once', async () => {
    const results = join(work, 'results-kill');
    // Only the worker whose QEMU hangs at first: it builds, then sits in its first cell's boot.
    const a = startWorker('wA', 'hang', 1);
    const run = startRun(1, results);
    const boot = await firstBoot(a);
    a.child.kill('SIGKILL');
    await a.child;
    // The worker's reaper kills what it started, QEMU included.
    await waitUntil(() => !processAlive(boot.pid), 10_000, `the end of wA's QEMU (pid ${boot.pid})`);

    const b = startWorker('wB', 'ok', 1);
    const done = await run.child;
    expect(done.exitCode, done.stderr).toBe(0);
    expectFinishedBy(results, boot.cell, 'wB');
    // wA booted once and never finished; wB booted each cell once; the coordinator booted nothing.
    expect(fakeQemuCalls(a.calls)).toHaveLength(1);
    expect(fakeQemuCalls(b.calls)).toHaveLength(2);
    expect(fakeQemuCalls(run.calls)).toHaveLength(0);
    b.child.kill('SIGTERM');
    await b.child;
  });

  it('a worker stopped with SIGTERM mid-boot hands its cell back at once: exit 0, its QEMU gone, another worker finishes the cell', async () => {
    const results = join(work, 'results-term');
    const a = startWorker('wC', 'hang', 2);
    const run = startRun(2, results);
    const boot = await firstBoot(a);
    const stopAt = Date.now();
    process.kill(a.child.pid!, 'SIGTERM');
    const stopped = await a.child;
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(STOP_BOUND_S * 1000);
    expect(stopped.stderr).toMatch(/handed back/);
    expect(processAlive(boot.pid)).toBe(false);

    const b = startWorker('wD', 'ok', 2);
    const done = await run.child;
    expect(done.exitCode, done.stderr).toBe(0);
    expectFinishedBy(results, boot.cell, 'wD');
    expect(fakeQemuCalls(b.calls)).toHaveLength(2);
    b.child.kill('SIGTERM');
    await b.child;
  });
});
