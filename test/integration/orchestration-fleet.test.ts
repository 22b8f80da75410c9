/**
 * A worker fault without kernels (issue 14, item 5): a fleet of real `kexp worker` processes on a
 * redis-server of the test's own, building the fake kernel tree (test/helpers/fake-kernel-tree.ts)
 * and booting the fake QEMU (test/fakes/). A worker is SIGKILLed while its cell's QEMU runs (the
 * fake one hangs there): its QEMU must not outlive it, and another worker must finish the cell,
 * each cell recorded once. Apart from the orchestration tests because BullMQ takes a killed
 * worker's job over only after its lock expires (src/fleet/timing.ts: about 15 + 10 s).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFakeKernelTree } from '../helpers/fake-kernel-tree.js';
import { fakeQemuCalls, fakeQemuEnv, processAlive } from '../helpers/fake-qemu.js';
import { kexp, kexpChild } from '../helpers/kexp.js';
import { type LocalRedis, startRedis } from '../helpers/redis.js';

type Child = ResultPromise<{ reject: false }>;

let work = '';
let redis: LocalRedis | undefined;
const children: Child[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kexp-orchestration-fleet-'));
  mkdirSync(join(work, 'redis'));
  redis = await startRedis(join(work, 'redis'));
});
afterAll(async () => {
  for (const child of children) {
    child.kill('SIGKILL');
    await child;
  }
  await redis?.stop();
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

describe('a fleet of workers on the fake kernel tree and the fake QEMU', () => {
  it('a worker SIGKILLed mid-boot: its QEMU is reaped, another worker finishes the cell, every cell recorded once', async () => {
    // A project root whose recipe is the fake tree (the workers see it: same machine, same path).
    const root = join(work, 'root');
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
    const experiment = join(root, 'fleet-fake.json');
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
        // Long enough that the hanging worker is still in QEMU when it is killed.
        timeouts: { watchdogSeconds: 120, bootSeconds: 300 },
      }),
    );
    const shared = join(work, 'shared');
    const results = join(work, 'results');
    const url = redis!.url;
    const worker = (name: string, scenario: 'hang' | 'ok'): { child: Child; calls: string } => {
      const calls = join(work, `${name}-qemu-calls.jsonl`);
      const child = kexpChild(['worker', '--redis', url, '--store', shared, '--jobs', '1', '--name', name], {
        ...fakeQemuEnv(scenario, calls),
        KEXP_ROOT: root,
        KEXP_CACHE: join(work, `cache-${name}`),
      });
      children.push(child);
      return { child, calls };
    };

    // The coordinator builds the guest image, with gen_init_cpio from the first source tree in its
    // cache: without one, it would extract usr/gen_init_cpio.c from Debian's kernel tarball
    // (about 15 s). A build of the fake kernel there puts the fake tree's stand-in in its cache.
    const coordinatorCache = join(work, 'cache-coordinator');
    const built = await kexp(['build', '--kernel', 'fake'], { KEXP_ROOT: root, KEXP_CACHE: coordinatorCache });
    expect(built.exitCode, built.stderr).toBe(0);

    // Only the worker whose QEMU hangs at first: it builds, then sits in its first cell's boot.
    const a = worker('wA', 'hang');
    const coordinatorCalls = join(work, 'coordinator-qemu-calls.jsonl');
    const run = kexpChild(['run', experiment, '--executor', 'bullmq', '--redis', url, '--store', shared, '--results', results], {
      ...fakeQemuEnv('ok', coordinatorCalls),
      KEXP_ROOT: root,
      KEXP_CACHE: coordinatorCache,
    });
    children.push(run);
    const [inQemu] = await waitUntil(() => fakeQemuCalls(a.calls).length > 0 && fakeQemuCalls(a.calls), 60_000, 'QEMU started by wA');
    const outDir = inQemu!.argv.find((arg) => arg.startsWith('file:'))!.slice('file:'.length);
    // A worker's cell folder: <cache>/logs/fleet/<run>-<cell>-<pid>-<n>/
    const victim = /-(fake_baseline_r\d+)-\d+-\d+\/results\.jsonl$/.exec(outDir)?.[1];
    expect(victim, `the cell in wA's QEMU (${outDir})`).toMatch(/^fake_baseline_r[01]$/);

    a.child.kill('SIGKILL');
    await a.child;
    // The worker's reaper kills what it started, QEMU included.
    await waitUntil(() => !processAlive(inQemu!.pid), 10_000, `the end of wA's QEMU (pid ${inQemu!.pid})`);

    const b = worker('wB', 'ok');
    const done = await run;
    expect(done.exitCode, done.stderr).toBe(0);
    const [runId] = readdirSync(results);
    const dir = join(results, runId!);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.state).toBe('complete');
    expect(manifest.cells[victim!]).toMatchObject({ state: 'done', status: 'ok', worker: 'wB' });
    for (const id of manifest.plannedCells) expect(manifest.cells[id]).toMatchObject({ state: 'done', status: 'ok' });
    // wA booted once and never finished; wB booted each cell once; nothing booted twice on wB.
    expect(fakeQemuCalls(a.calls)).toHaveLength(1);
    expect(fakeQemuCalls(b.calls)).toHaveLength(2);
    expect(fakeQemuCalls(coordinatorCalls)).toHaveLength(0);
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
    expect(existsSync(join(dir, 'cells', victim!, 'cell.json'))).toBe(true);
    b.child.kill('SIGTERM');
    await b.child;
  });
});
