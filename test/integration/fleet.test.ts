/**
 * The fleet for real: a redis-server of the test file's own (a free port, a password, a temporary
 * folder), real `kexp worker` processes sharing an artifact store, and real boots of a narrowed
 * experiment (6.12 baseline and early-break, uffd-populate, two repetitions: four cells). A
 * worker is SIGKILLed while its cell's QEMU runs, and while its make runs; the coordinator is
 * SIGKILLed in the middle of a run and resumed; a cell that kills every worker it runs on is given
 * up; Redis goes away under a worker and comes back; a wrong password fails fast. The local
 * executor's figures are the reference.
 *
 * Every test runs alone (`-t "<name>"`): it has a Redis database of its own (so no job crosses
 * tests), stops and awaits every process it started, and computes the reference when it needs it.
 * It waits for events (a line, a process), never for a fixed time for something to happen.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CellRecord, RunManifest } from '../../src/results/store.js';
import { kexp, kexpChild, scratchRoot } from '../helpers/kexp.js';
import { freePort, startRedis, type LocalRedis } from '../helpers/redis.js';
import { MAX_STALLS } from '../../src/fleet/jobs.js';
import { STOP_BOUND_S } from '../../src/fleet/timing.js';

const tmp = mkdtempSync(join(tmpdir(), 'kexp-fleet-'));
const shared = join(tmp, 'shared');
const password = randomBytes(8).toString('hex');
let redis: LocalRedis | undefined;

const experimentFile = join(tmp, 'fleet.json');
const narrowed = { kernels: ['6.12'], variants: ['baseline', 'early-break'], workloads: [{ name: 'uffd-populate' }], sizes: [64, 128], repetitions: 2 };
writeFileSync(experimentFile, JSON.stringify({ name: 'fleet', ...narrowed }));
const CELLS = 4;
const SAMPLES_PER_CELL = 2;

type Child = ResultPromise<{ reject: false }>;

interface Watcher {
  text: () => string;
  waitFor: (pattern: RegExp, ms: number) => Promise<RegExpExecArray>;
}

/** Accumulates a child's stderr, and waits for a line matching a pattern. */
function watch(child: Child): Watcher {
  let seen = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    for (const w of [...waiters]) {
      const m = w.pattern.exec(seen);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    text: () => seen,
    waitFor: (pattern, ms) =>
      new Promise((resolve, reject) => {
        const m = pattern.exec(seen);
        if (m) return resolve(m);
        const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms / 1000} s:\n${seen}`)), ms);
        waiters.push({
          pattern,
          resolve: (found) => {
            clearTimeout(timer);
            resolve(found);
          },
        });
        void child.then(() => setTimeout(() => reject(new Error(`the process ended before ${pattern}:\n${seen}`)), 100));
      }),
  };
}

/** Polls `probe` until it gives a value (a condition on processes, files or a server, which send no event). */
async function waitUntil<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`no ${what} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * SIGTERM as systemd or a user sends it. Not child.kill(): execa follows that with a SIGKILL
 * after 5 s, which would cut a stop short and hide how long it takes.
 */
function terminate(child: Child): void {
  try {
    process.kill(child.pid!, 'SIGTERM');
  } catch {
    // gone already
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface StartedWorker {
  name: string;
  child: Child;
  watcher: Watcher;
}

/**
 * What one test starts: a Redis database of its own, its workers and coordinators, all stopped
 * and awaited after the test whatever happened (SIGTERM, then SIGKILL past the stop bound).
 */
class Fleet {
  readonly url: string;
  readonly workers: StartedWorker[] = [];
  private readonly children: Child[] = [];
  constructor(readonly db: number) {
    this.url = `${redis!.url}/${db}`;
  }

  spawn(args: string[], env: Record<string, string> = {}): Child {
    const child = kexpChild(args, env);
    this.children.push(child);
    return child;
  }

  startWorker(name: string, env: Record<string, string> = {}): StartedWorker {
    const child = this.spawn(['worker', '--redis', this.url, '--store', shared, '--jobs', '1', '--name', name], env);
    const worker = { name, child, watcher: watch(child) };
    this.workers.push(worker);
    return worker;
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        terminate(child);
        const timer = setTimeout(() => child.kill('SIGKILL'), (STOP_BOUND_S + 5) * 1000);
        await child;
        clearTimeout(timer);
      }),
    );
  }
}

let nextDb = 0;
let fleet: Fleet;

beforeAll(async () => {
  redis = await startRedis(tmp, password);
});

beforeEach(() => {
  // Database 0 stays unused; redis-server has 16.
  fleet = new Fleet(++nextDb);
});

afterEach(async () => {
  await fleet.stopAll();
});

afterAll(async () => {
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Processes that a worker started (they carry its marker), alive or not yet reaped. */
function processesOf(workerPid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`KEXP_WORKER_PID=${workerPid}`)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function procText(pid: number, file: 'comm' | 'cmdline'): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** The cell whose QEMU the worker runs now, if any: its output folder (in QEMU's arguments) names it. */
function cellInQemu(worker: StartedWorker): string | undefined {
  const pid = worker.child.pid!;
  const started = [...worker.watcher.text().matchAll(/cell (\S+) \(run \S+\): started/g)].map((m) => m[1]!);
  for (const p of processesOf(pid)) {
    if (!procText(p, 'comm').startsWith('qemu-system')) continue;
    const args = procText(p, 'cmdline');
    const cell = started.find((c) => args.includes(`-${c}-${pid}-`));
    if (cell) return cell;
  }
  return undefined;
}

async function expectNothingLeftBy(workerPid: number, what: string): Promise<void> {
  // The watcher kills them as soon as it sees its pipe close; give it the time to do so.
  const left = await waitUntil(() => (processesOf(workerPid).length === 0 ? [] : false), 5000, `exit of every process ${what} started`).catch(() =>
    processesOf(workerPid),
  );
  expect(left, `processes ${what} left behind`).toEqual([]);
}

function manifestOf(dir: string): RunManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
}

function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

type Figures = Record<string, { status: string; per_page: number | null; fixed: number | null }>;

/** kernel/variant/workload → the per-page figure and its fixed part, from a run's report.json. */
function figures(dir: string): Figures {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
    tables: { kernel: string; rows: { workload: string; cells: { variant: string; status: string; per_page: number | null; fixed: number | null }[] }[] }[];
  };
  const out: Figures = {};
  for (const t of report.tables)
    for (const r of t.rows) for (const c of r.cells) out[`${t.kernel}/${c.variant}/${r.workload}`] = { status: c.status, per_page: c.per_page, fixed: c.fixed };
  return out;
}

/** Every planned cell recorded once, ok, with its files; the samples file holds each sample once. */
function expectEveryCellOnce(dir: string): void {
  const m = manifestOf(dir);
  expect(m.state).toBe('complete');
  expect(m.plannedCells).toHaveLength(CELLS);
  expect(readdirSync(join(dir, 'cells')).sort()).toEqual([...m.plannedCells].sort());
  for (const id of m.plannedCells) {
    expect(m.cells[id]?.state, id).toBe('done');
    expect(m.cells[id]?.status, `${id}: ${m.cells[id]?.reason}`).toBe('ok');
    for (const f of ['console.log', 'channel.txt', 'qemu.json', 'cell.json']) expect(existsSync(join(dir, 'cells', id, f)), `${id}/${f}`).toBe(true);
  }
  const samples = readFileSync(join(dir, 'samples.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { cell: string; pages: number });
  expect(samples).toHaveLength(CELLS * SAMPLES_PER_CELL);
  expect(new Set(samples.map((s) => `${s.cell}/${s.pages}`)).size).toBe(samples.length);
}

/** The narrowed experiment run by the local executor, once per file run, by whichever test needs it first. */
let referenceRun: Promise<{ dir: string; figures: Figures }> | undefined;
function reference(): Promise<{ dir: string; figures: Figures }> {
  referenceRun ??= (async () => {
    const r = await kexp(['run', experimentFile, '--results', join(tmp, 'local'), '--jobs', '2', '--json']);
    if (r.exitCode !== 0) throw new Error(`the reference run failed (exit ${r.exitCode}):\n${r.stderr}`);
    const dir = lastJson<{ dir: string }>(r.stdout).dir;
    return { dir, figures: figures(dir) };
  })();
  return referenceRun;
}

describe('kexp fleet: BullMQ on a real redis-server, real workers, real boots', () => {
  it('runs the narrowed experiment with the local executor (the reference figures)', async () => {
    const { dir, figures: reference_ } = await reference();
    expectEveryCellOnce(dir);
    expect(manifestOf(dir).executor).toEqual({ name: 'local' });
    expect(Object.keys(reference_)).toHaveLength(2);
    for (const figure of Object.values(reference_)) expect(figure.status).toBe('ok');
  });

  it('survives a worker SIGKILLed mid-cell: no QEMU left, the cell finished elsewhere, each cell recorded once, same figures', async () => {
    const { figures: expected } = await reference();
    const a = fleet.startWorker('wA');
    const b = fleet.startWorker('wB');
    await Promise.all([a.watcher.waitFor(/taking jobs/, 30_000), b.watcher.waitFor(/taking jobs/, 30_000)]);
    const run = fleet.spawn([
      'run',
      experimentFile,
      '--executor',
      'bullmq',
      '--redis',
      fleet.url,
      '--store',
      shared,
      '--results',
      join(tmp, 'fleet'),
      '--json',
    ]);
    const runWatch = watch(run);
    // Kill wA outright while the QEMU of one of its cells runs: that cell is in flight.
    const inFlight = await waitUntil(() => cellInQemu(a), 600_000, 'QEMU of a cell in wA');
    const pid = a.child.pid!;
    a.child.kill('SIGKILL');
    await a.child;
    expect(a.watcher.text(), `wA finished ${inFlight} before it was killed`).not.toMatch(
      new RegExp(`cell ${escapeRegExp(inFlight)} \\(run \\S+\\): (ok|failed|crashed|hung)`),
    );
    await expectNothingLeftBy(pid, 'wA');

    const done = await run;
    expect(done.exitCode, runWatch.text()).toBe(0);
    const out = lastJson<{ dir: string; state: string }>(done.stdout);
    expectEveryCellOnce(out.dir);
    const m = manifestOf(out.dir);
    expect(m.executor?.redis).toBe(`redis://:***@127.0.0.1:${redis!.port}/${fleet.db}`);
    expect(readFileSync(join(out.dir, 'manifest.json'), 'utf8')).not.toContain(password);
    // The cell wA was killed in was finished by wB, and every record says who ran it.
    expect(m.cells[inFlight]?.worker).toBe('wB');
    for (const id of m.plannedCells)
      expect(['wA', 'wB']).toContain((JSON.parse(readFileSync(join(out.dir, 'cells', id, 'cell.json'), 'utf8')) as CellRecord).worker);
    expect(b.watcher.text()).toMatch(new RegExp(`cell ${escapeRegExp(inFlight)} \\(run \\S+\\): ok`));
    expect(figures(out.dir)).toEqual(expected);
    // Artifacts reached the shared store with their sums.
    expect(readdirSync(join(shared, 'store', 'kernels')).length).toBeGreaterThanOrEqual(2);
    for (const kind of ['kernels', 'images'])
      for (const key of readdirSync(join(shared, 'store', kind))) expect(existsSync(join(shared, 'store', kind, key, 'SHA256SUMS'))).toBe(true);
  });

  it('resumes a SIGKILLed coordinator: what the fleet finished meanwhile is collected, nothing runs twice', async () => {
    const { figures: expected } = await reference();
    const c = fleet.startWorker('wC');
    await c.watcher.waitFor(/taking jobs/, 30_000);
    const results = join(tmp, 'resume');
    const run = fleet.spawn(['run', experimentFile, '--redis', fleet.url, '--store', shared, '--results', results]);
    await watch(run).waitFor(/runs 1\/4 done/, 600_000);
    run.kill('SIGKILL');
    await run;
    const listed = JSON.parse((await kexp(['runs', '--results', results, '--json'])).stdout) as { id: string; dir: string; state: string; cellsDone: number }[];
    expect(listed).toHaveLength(1);
    const { id, dir } = listed[0]!;
    expect(listed[0]!.state).toBe('running');
    const doneBefore = Object.entries(manifestOf(dir).cells)
      .filter(([, s]) => s.state === 'done')
      .map(([cell]) => cell);
    expect(doneBefore.length).toBeGreaterThanOrEqual(1);
    const stamps = Object.fromEntries(doneBefore.map((cell) => [cell, statSync(join(dir, 'cells', cell, 'cell.json')).mtimeMs]));
    // The worker goes on while no coordinator listens; wait until it finished the rest.
    const finished = new RegExp(`cell \\S+ \\(run ${escapeRegExp(id)}\\): (ok|failed|crashed|hung)`, 'g');
    await waitUntil(() => (c.watcher.text().match(finished)?.length ?? 0) >= CELLS, 600_000, `${CELLS} cells finished by wC`);

    const resumed = await kexp(['run', '--resume', id, '--redis', fleet.url, '--store', shared, '--results', results, '--json']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expectEveryCellOnce(dir);
    for (const cell of doneBefore) expect(statSync(join(dir, 'cells', cell, 'cell.json')).mtimeMs).toBe(stamps[cell]);
    // Each cell was booted once.
    for (const cell of manifestOf(dir).plannedCells) {
      const boots = c.watcher.text().match(new RegExp(`cell ${escapeRegExp(cell)} \\(run ${escapeRegExp(id)}\\): started`, 'g'))?.length ?? 0;
      expect(boots, cell).toBe(1);
    }
    expect(figures(dir)).toEqual(expected);
  });

  it('stops workers on SIGTERM with exit code 0', async () => {
    const workers = [fleet.startWorker('wT1'), fleet.startWorker('wT2')];
    await Promise.all(workers.map((w) => w.watcher.waitFor(/taking jobs/, 30_000)));
    for (const w of workers) {
      const t0 = Date.now();
      terminate(w.child);
      const r = await w.child;
      expect(Date.now() - t0).toBeLessThan(STOP_BOUND_S * 1000);
      expect(r.exitCode, w.watcher.text()).toBe(0);
      expect(w.watcher.text()).toMatch(new RegExp(`worker ${w.name}: stopped`));
      await expectNothingLeftBy(w.child.pid!, w.name);
    }
  });

  it('cancels a fleet run for good: its queued jobs leave Redis, a worker takes none of it, --resume refuses', async () => {
    const results = join(tmp, 'cancel');
    const run = fleet.spawn(['run', experimentFile, '--redis', fleet.url, '--store', shared, '--results', results]);
    // No worker listens on this test's database: the coordinator queues the builds and waits.
    await watch(run).waitFor(/running: /, 600_000);
    run.kill('SIGKILL');
    await run;
    const [listed] = JSON.parse((await kexp(['runs', '--results', results, '--json'])).stdout) as { id: string; dir: string }[];
    const { id, dir } = listed!;
    const keys = async (): Promise<string[]> =>
      (
        await execa('redis-cli', ['-p', String(redis!.port), '-n', String(fleet.db), '-a', password, '--no-auth-warning', '--scan', '--pattern', `*${id}*`])
      ).stdout
        .split('\n')
        .filter(Boolean);
    expect((await keys()).length).toBeGreaterThan(0);

    const cancelled = await kexp(['run', '--cancel', id, '--redis', fleet.url, '--results', results, '--json']);
    expect(cancelled.exitCode, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ run: id, state: 'incomplete', removed: 2, running: 0 });
    expect(manifestOf(dir).cancelledAt).toBeTruthy();
    expect(await keys()).toEqual([`kexp:cancelled:${id}`]);

    // A worker started now takes the next run's work first: nothing of the cancelled run was left.
    const d = fleet.startWorker('wD');
    await d.watcher.waitFor(/taking jobs/, 30_000);
    const nextFile = join(tmp, 'fleet-next.json');
    writeFileSync(nextFile, JSON.stringify({ name: 'fleetnext', ...narrowed }));
    const next = fleet.spawn(['run', nextFile, '--only', 'variant=baseline', '--redis', fleet.url, '--store', shared, '--results', join(tmp, 'cancel-next')]);
    await d.watcher.waitFor(/build 6\.12\/baseline \(run fleetnext-\S+\): started/, 600_000);
    expect(d.watcher.text()).not.toContain(id);
    next.kill('SIGKILL');
    await next;

    const resumed = await kexp(['run', '--resume', id, '--redis', fleet.url, '--results', results]);
    expect(resumed.exitCode).toBe(2);
    expect(resumed.stderr).toMatch(new RegExp(`run ${escapeRegExp(id)} was cancelled`));
    const local = await kexp(['run', '--cancel', id, '--results', results]);
    expect(local.exitCode).toBe(2);
  });

  it('survives a worker SIGKILLed mid-build: no make left, the build finished by another worker, the run complete', async () => {
    // A variant of its own (a file no build reads), so that the kernel really builds: a relink.
    const patch = [
      'From: kexp test <kexp@localhost>',
      'Subject: [PATCH] kexp fleet test: a file the build does not read',
      '',
      '---',
      'diff --git a/Documentation/kexp-fleet-test.txt b/Documentation/kexp-fleet-test.txt',
      'new file mode 100644',
      '--- /dev/null',
      `+++ b/Documentation/kexp-fleet-test.txt`,
      '@@ -0,0 +1 @@',
      `+kexp fleet test ${Date.now()}`,
      '',
    ].join('\n');
    const root = scratchRoot({ killbuild: { '6.12/0001-kexp-fleet-test.patch': patch } });
    const file = join(root, 'killbuild.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'killbuild', kernels: ['6.12'], variants: ['killbuild'], workloads: [{ name: 'uffd-populate' }], sizes: [64, 128] }),
    );
    const k1 = fleet.startWorker('wK1', { KEXP_ROOT: root });
    const k2 = fleet.startWorker('wK2', { KEXP_ROOT: root });
    await Promise.all([k1.watcher.waitFor(/taking jobs/, 30_000), k2.watcher.waitFor(/taking jobs/, 30_000)]);
    const run = fleet.spawn(['run', file, '--redis', fleet.url, '--store', shared, '--results', join(tmp, 'killbuild'), '--json'], { KEXP_ROOT: root });
    const started = /build 6\.12\/killbuild \(run \S+\): started/;
    const [builder, other] = await Promise.race([
      k1.watcher.waitFor(started, 600_000).then(() => [k1, k2]),
      k2.watcher.waitFor(started, 600_000).then(() => [k2, k1]),
    ]);
    const pid = builder!.child.pid!;
    // Kill it while make builds bzImage (not while it configures): from the link of vmlinux on if
    // there is one to do, else as soon as make runs.
    const inTree = (test: (pid: number) => boolean): boolean => processesOf(pid).some(test);
    const makeBuilds = (p: number): boolean => procText(p, 'comm') === 'make' && procText(p, 'cmdline').split(' ').includes('bzImage');
    await waitUntil(() => inTree(makeBuilds), 600_000, 'make bzImage in the builder');
    await waitUntil(() => inTree((p) => /vmlinux/.test(procText(p, 'cmdline'))) || !inTree(makeBuilds), 600_000, 'the link of vmlinux');
    expect(inTree(makeBuilds), 'make bzImage still runs').toBe(true);
    builder!.child.kill('SIGKILL');
    await builder!.child;
    expect(builder!.watcher.text(), 'the builder finished its build before it was killed').not.toMatch(/build 6\.12\/killbuild \(run \S+\): (built|found)/);
    await expectNothingLeftBy(pid, 'the killed builder');
    const done = await run;
    expect(done.exitCode, `${done.stderr}\n${other!.name}:\n${other!.watcher.text()}`).toBe(0);
    const m = manifestOf(lastJson<{ dir: string }>(done.stdout).dir);
    expect(m.state).toBe('complete');
    const built = m.artifacts.kernels['6.12/killbuild']!;
    expect(built.worker).toBe(other!.name);
    expect(built.key).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.values(m.cells).every((c) => c.state === 'done' && c.status === 'ok')).toBe(true);
    // The artifact appeared whole in the shared store; nothing half-written was left there.
    expect(existsSync(join(shared, 'store', 'kernels', built.key, 'SHA256SUMS'))).toBe(true);
    expect(existsSync(join(shared, 'store', '.tmp')) ? readdirSync(join(shared, 'store', '.tmp')) : []).toEqual([]);
  });

  it('hands a cell back when its worker gets SIGTERM mid-boot, and another worker finishes it', async () => {
    const { figures: expected } = await reference();
    const s1 = fleet.startWorker('wS1');
    const s2 = fleet.startWorker('wS2');
    await Promise.all([s1.watcher.waitFor(/taking jobs/, 30_000), s2.watcher.waitFor(/taking jobs/, 30_000)]);
    const run = fleet.spawn(['run', experimentFile, '--redis', fleet.url, '--store', shared, '--results', join(tmp, 'handback'), '--json']);
    const inFlight = await waitUntil(() => cellInQemu(s1), 600_000, 'QEMU of a cell in wS1');
    const t0 = Date.now();
    terminate(s1.child);
    const stopped = await s1.child;
    expect(stopped.exitCode, s1.watcher.text()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(STOP_BOUND_S * 1000);
    expect(s1.watcher.text()).toMatch(/handed back/);
    expect(s1.watcher.text()).not.toMatch(new RegExp(`cell ${escapeRegExp(inFlight)} \\(run \\S+\\): (ok|failed|crashed|hung)`));
    await expectNothingLeftBy(s1.child.pid!, 'wS1');
    const done = await run;
    expect(done.exitCode, done.stderr).toBe(0);
    const out = lastJson<{ dir: string }>(done.stdout);
    expectEveryCellOnce(out.dir);
    expect(manifestOf(out.dir).cells[inFlight]?.worker).toBe('wS2');
    expect(figures(out.dir)).toEqual(expected);
  });

  it('gives up on a cell that kills its worker every time: a failed cell with an infrastructure reason, after a bounded number of tries; the run goes on', async () => {
    let victim: string | undefined;
    let kills = 0;
    let spawned = 0;
    const killings: Promise<void>[] = [];
    const spawnWorker = (): void => {
      const worker = fleet.startWorker(`wP${++spawned}`);
      let killing = false;
      worker.child.stderr!.on('data', () => {
        if (killing) return;
        const first = /cell (\S+) \(run \S+\): started/.exec(worker.watcher.text());
        if (!first) return;
        victim ??= first[1]!;
        if (!new RegExp(`cell ${escapeRegExp(victim)} \\(run \\S+\\): started`).test(worker.watcher.text())) return;
        killing = true;
        // The cell "kills its worker": SIGKILL while its QEMU runs, and a new worker takes the place.
        killings.push(
          waitUntil(() => cellInQemu(worker) === victim, 600_000, `QEMU of ${victim} in ${worker.name}`).then(() => {
            kills++;
            worker.child.kill('SIGKILL');
            spawnWorker();
          }),
        );
      });
    };
    spawnWorker();
    spawnWorker();
    const results = join(tmp, 'poison');
    const done = await kexp(['run', experimentFile, '--redis', fleet.url, '--store', shared, '--results', results, '--json']);
    await Promise.all(killings);
    expect(done.exitCode, done.stderr).toBe(1);
    const out = lastJson<{ dir: string; state: string }>(done.stdout);
    expect(out.state).toBe('complete');
    const m = manifestOf(out.dir);
    expect(kills).toBe(MAX_STALLS + 1);
    for (const id of m.plannedCells) {
      expect(m.cells[id]?.state, id).toBe('done');
      if (id === victim) {
        expect(m.cells[id]?.status).toBe('failed');
        expect(m.cells[id]?.reason).toMatch(/^infrastructure error: .*stalled/);
      } else {
        expect(m.cells[id]?.status, `${id}: ${m.cells[id]?.reason}`).toBe('ok');
      }
    }
  });

  it('says in one line that Redis went away, reconnects when it is back, and stops within its bound while Redis is gone', async () => {
    // A Redis of this test's own, killed and restarted on the same port.
    const dir = mkdtempSync(join(tmp, 'away-'));
    let own = await startRedis(dir, password);
    const url = `${own.url}/1`;
    const shown = `redis://:***@127.0.0.1:${own.port}/1`;
    const child = fleet.spawn(['worker', '--redis', url, '--jobs', '1', '--name', 'wR']);
    const w = watch(child);
    try {
      await w.waitFor(/worker wR: taking jobs/, 30_000);
      const unreachable = new RegExp(`worker wR: Redis at ${escapeRegExp(shown)} unreachable \\(ECONNREFUSED\\); retrying`, 'g');
      await own.stop('SIGKILL');
      await w.waitFor(new RegExp(unreachable.source), 30_000);
      // Let it retry a while (the pause grows to 5 s): the line stays one.
      await new Promise((r) => setTimeout(r, 12_000));
      expect(w.text().match(unreachable)).toHaveLength(1);

      own = await startRedis(dir, password, own.port);
      await w.waitFor(new RegExp(`worker wR: Redis at ${escapeRegExp(shown)} reachable again`), 30_000);
      // It listens for jobs again: its blocking read is back on the server.
      const clients = async (): Promise<string> =>
        (await execa('redis-cli', ['-p', String(own.port), '-a', password, '--no-auth-warning', 'client', 'list'], { reject: false })).stdout;
      await waitUntil(async () => /name=kexp:\S+:w:wR .*cmd=bzpopmin/.test(await clients()), 30_000, 'the blocking read of wR on the restarted Redis');

      await own.stop('SIGKILL');
      await waitUntil(() => (w.text().match(unreachable)?.length ?? 0) >= 2, 30_000, 'the second "unreachable" line');
      const t0 = Date.now();
      terminate(child);
      const r = await child;
      const seconds = (Date.now() - t0) / 1000;
      expect(seconds, w.text()).toBeLessThan(STOP_BOUND_S);
      expect(r.exitCode, w.text()).toBe(0);
      expect(w.text()).toMatch(/worker wR: stopped/);
      expect(w.text().match(unreachable)).toHaveLength(2);
      // No stack trace, no raw error object, no password.
      expect(w.text()).not.toMatch(/^\s+at |errno:|Error: connect/m);
      expect(w.text()).not.toContain(password);
      await expectNothingLeftBy(child.pid!, 'wR');
    } finally {
      await own.stop('SIGKILL');
    }
  });

  it('reaches a Redis over TLS (rediss://, a password, a private CA) and says so when the certificate is not trusted', async () => {
    const cert = join(tmp, 'tls.crt');
    const key = join(tmp, 'tls.key');
    await execa('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
    const tlsPort = await freePort();
    const tlsRedis = execa(
      'redis-server',
      [
        '--port',
        '0',
        '--tls-port',
        String(tlsPort),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        cert,
        '--tls-key-file',
        key,
        '--tls-ca-cert-file',
        cert,
        '--tls-auth-clients',
        'no',
        '--requirepass',
        password,
        '--dir',
        tmp,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { reject: false, stdout: 'ignore', stderr: 'ignore' },
    );
    try {
      const tlsUrl = `rediss://:${password}@127.0.0.1:${tlsPort}`;
      await waitUntil(
        async () =>
          (
            await execa('redis-cli', ['--tls', '--cacert', cert, '-p', String(tlsPort), '-a', password, '--no-auth-warning', 'ping'], { reject: false })
          ).stdout.trim() === 'PONG',
        5000,
        'PONG from redis-server with TLS',
      );
      const untrusted = await kexp(['worker', '--redis', tlsUrl]);
      expect(untrusted.exitCode).toBe(3);
      expect(untrusted.stderr).toMatch(/TLS certificate/);
      expect(untrusted.stderr).toContain(`rediss://:***@127.0.0.1:${tlsPort}`);
      const child = fleet.spawn(['worker', '--redis', tlsUrl, '--name', 'wTLS'], { NODE_EXTRA_CA_CERTS: cert });
      const w = watch(child);
      await w.waitFor(/worker wTLS: taking jobs from rediss:\/\/:\*\*\*@127\.0\.0\.1/, 30_000);
      terminate(child);
      expect((await child).exitCode, w.text()).toBe(0);
      expect(w.text()).not.toContain(password);
    } finally {
      tlsRedis.kill('SIGTERM');
      await tlsRedis;
    }
  });

  it('fails within seconds on a wrong password or an unreachable Redis, naming the URL without the password', async () => {
    const port = redis!.port;
    const wrong = `redis://:not-${password}@127.0.0.1:${port}`;
    for (const args of [
      ['run', experimentFile, '--redis', wrong, '--results', join(tmp, 'bad')],
      ['worker', '--redis', wrong],
    ]) {
      const t0 = Date.now();
      const r = await kexp(args);
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toContain(`redis://:***@127.0.0.1:${port}`);
      expect(r.stderr).toMatch(/password/);
      expect(r.stderr).not.toContain(password);
    }
    expect(existsSync(join(tmp, 'bad'))).toBe(false);
    const closed = await freePort();
    const t0 = Date.now();
    const r = await kexp(['worker', '--redis', `redis://127.0.0.1:${closed}`]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(`redis://127.0.0.1:${closed}`);
  });
});
