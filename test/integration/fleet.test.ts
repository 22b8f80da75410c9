/**
 * The fleet for real: a redis-server of the test's own (a free port, a password, a temporary
 * folder), real `kexp worker` processes sharing an artifact store, and real boots of a narrowed
 * experiment (6.12 baseline and early-break, uffd-populate, two repetitions: four cells). A
 * worker is SIGKILLed in the middle of a cell; the coordinator is SIGKILLed in the middle of a
 * run and resumed; a cell that kills every worker it runs on is given up; a wrong password fails
 * fast. The local executor's figures are the reference.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellRecord, RunManifest } from '../../src/results/store.js';
import { kexp, kexpChild, scratchRoot } from '../helpers/kexp.js';
import { freePort, startRedis, type LocalRedis } from '../helpers/redis.js';
import { MAX_STALLS } from '../../src/fleet/jobs.js';

const tmp = mkdtempSync(join(tmpdir(), 'kexp-fleet-'));
const shared = join(tmp, 'shared');
const password = randomBytes(8).toString('hex');
let port = 0;
let redis: LocalRedis | undefined;
let url = '';
const workers: { name: string; child: ResultPromise<{ reject: false }>; log: () => string }[] = [];

const experimentFile = join(tmp, 'fleet.json');
writeFileSync(experimentFile, JSON.stringify({
  name: 'fleet',
  kernels: ['6.12'],
  variants: ['baseline', 'early-break'],
  workloads: [{ name: 'uffd-populate' }],
  sizes: [64, 128],
  repetitions: 2,
}));
const CELLS = 4;
const SAMPLES_PER_CELL = 2;


/** Accumulates a child's stderr, and waits for a line matching a pattern. */
function watch(child: ResultPromise<{ reject: false }>): { text: () => string; waitFor: (pattern: RegExp, ms: number) => Promise<RegExpExecArray> } {
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
        waiters.push({ pattern, resolve: (found) => (clearTimeout(timer), resolve(found)) });
        void child.then(() => setTimeout(() => reject(new Error(`the process ended before ${pattern}:\n${seen}`)), 100));
      }),
  };
}

function startWorker(name: string): { child: ResultPromise<{ reject: false }>; watcher: ReturnType<typeof watch> } {
  const child = kexpChild(['worker', '--redis', url, '--store', shared, '--jobs', '1', '--name', name]);
  const watcher = watch(child);
  workers.push({ name, child, log: watcher.text });
  return { child, watcher };
}

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

function manifestOf(dir: string): RunManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
}

function lastJson<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

/** kernel/variant/workload → the per-page figure and its fixed part, from a run's report.json. */
function figures(dir: string): Record<string, { status: string; per_page: number | null; fixed: number | null }> {
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { tables: { kernel: string; rows: { workload: string; cells: { variant: string; status: string; per_page: number | null; fixed: number | null }[] }[] }[] };
  const out: Record<string, { status: string; per_page: number | null; fixed: number | null }> = {};
  for (const t of report.tables) for (const r of t.rows) for (const c of r.cells) out[`${t.kernel}/${c.variant}/${r.workload}`] = { status: c.status, per_page: c.per_page, fixed: c.fixed };
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
    for (const f of ['console.log', 'results.jsonl', 'qemu.json', 'cell.json']) expect(existsSync(join(dir, 'cells', id, f)), `${id}/${f}`).toBe(true);
  }
  const samples = readFileSync(join(dir, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cell: string; pages: number });
  expect(samples).toHaveLength(CELLS * SAMPLES_PER_CELL);
  expect(new Set(samples.map((s) => `${s.cell}/${s.pages}`)).size).toBe(samples.length);
}

let reference: ReturnType<typeof figures>;

beforeAll(async () => {
  redis = await startRedis(tmp, password);
  port = redis.port;
  url = redis.url;
});

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.child));
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('kexp fleet: BullMQ on a real redis-server, real workers, real boots', () => {
  it('runs the narrowed experiment with the local executor (the reference figures)', async () => {
    const results = join(tmp, 'local');
    const r = await kexp(['run', experimentFile, '--results', results, '--jobs', '2', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = lastJson<{ dir: string }>(r.stdout);
    expectEveryCellOnce(out.dir);
    expect(manifestOf(out.dir).executor).toEqual({ name: 'local' });
    reference = figures(out.dir);
    expect(Object.keys(reference)).toHaveLength(2);
  });

  it('survives a worker SIGKILLed mid-cell: no QEMU left, the cell finished elsewhere, each cell recorded once, same figures', async () => {
    const a = startWorker('wA');
    const b = startWorker('wB');
    await Promise.all([a.watcher.waitFor(/taking jobs/, 30_000), b.watcher.waitFor(/taking jobs/, 30_000)]);
    const results = join(tmp, 'fleet');
    const run = kexpChild(['run', experimentFile, '--executor', 'bullmq', '--redis', url, '--store', shared, '--results', results, '--json']);
    const runWatch = watch(run);
    // wA boots a cell: kill it outright once QEMU runs.
    const [, cellId] = await a.watcher.waitFor(/cell (\S+) \(run \S+\): started/, 240_000);
    await new Promise((r) => setTimeout(r, 2500));
    const pid = a.child.pid!;
    expect(processesOf(pid).length, 'wA runs its cell in a child').toBeGreaterThan(0);
    a.child.kill('SIGKILL');
    await a.child;
    for (let i = 0; i < 50 && processesOf(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(processesOf(pid), 'processes wA left behind').toEqual([]);

    const done = await run;
    expect(done.exitCode, runWatch.text()).toBe(0);
    const out = lastJson<{ dir: string; state: string }>(done.stdout);
    expectEveryCellOnce(out.dir);
    const m = manifestOf(out.dir);
    expect(m.executor?.redis).toBe(`redis://:***@127.0.0.1:${port}`);
    expect(readFileSync(join(out.dir, 'manifest.json'), 'utf8')).not.toContain(password);
    // The cell wA was killed in was finished by wB, and every record says who ran it.
    expect(m.cells[cellId!]?.worker).toBe('wB');
    for (const id of m.plannedCells) expect(['wA', 'wB']).toContain((JSON.parse(readFileSync(join(out.dir, 'cells', id, 'cell.json'), 'utf8')) as CellRecord).worker);
    expect(b.watcher.text()).toMatch(new RegExp(`cell ${cellId!.replace(/[.]/g, '\\.')} \\(run \\S+\\): ok`));
    expect(figures(out.dir)).toEqual(reference);
    // Artifacts reached the shared store with their sums.
    expect(readdirSync(join(shared, 'store', 'kernels')).length).toBeGreaterThanOrEqual(2);
    for (const kind of ['kernels', 'images']) for (const key of readdirSync(join(shared, 'store', kind))) expect(existsSync(join(shared, 'store', kind, key, 'SHA256SUMS'))).toBe(true);
  });

  it('resumes a SIGKILLed coordinator: what the fleet finished meanwhile is collected, nothing runs twice', async () => {
    const c = startWorker('wC');
    await c.watcher.waitFor(/taking jobs/, 30_000);
    const results = join(tmp, 'resume');
    const run = kexpChild(['run', experimentFile, '--redis', url, '--store', shared, '--results', results]);
    const runWatch = watch(run);
    await runWatch.waitFor(/runs 1\/4 done/, 240_000);
    run.kill('SIGKILL');
    await run;
    const listed = JSON.parse((await kexp(['runs', '--results', results, '--json'])).stdout) as { id: string; dir: string; state: string; cellsDone: number }[];
    expect(listed).toHaveLength(1);
    const { id, dir } = listed[0]!;
    expect(listed[0]!.state).toBe('running');
    const doneBefore = Object.entries(manifestOf(dir).cells).filter(([, s]) => s.state === 'done').map(([cell]) => cell);
    expect(doneBefore.length).toBeGreaterThanOrEqual(1);
    const stamps = Object.fromEntries(doneBefore.map((cell) => [cell, statSync(join(dir, 'cells', cell, 'cell.json')).mtimeMs]));
    // The workers go on while no coordinator listens; wait until they finished the rest.
    const finished = (): number => workers.filter((w) => w.name !== 'wA').reduce((n, w) => n + (w.log().match(new RegExp(`cell \\S+ \\(run ${id}\\): (ok|failed|crashed|hung)`, 'g'))?.length ?? 0), 0);
    for (let i = 0; i < 600 && finished() < CELLS; i++) await new Promise((r) => setTimeout(r, 500));
    expect(finished()).toBe(CELLS);

    const resumed = await kexp(['run', '--resume', id, '--redis', url, '--store', shared, '--results', results, '--json']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expectEveryCellOnce(dir);
    for (const cell of doneBefore) expect(statSync(join(dir, 'cells', cell, 'cell.json')).mtimeMs).toBe(stamps[cell]);
    // Each cell was booted once across the fleet.
    for (const cell of manifestOf(dir).plannedCells) {
      const boots = workers.reduce((n, w) => n + (w.log().match(new RegExp(`cell ${cell.replace(/[.]/g, '\\.')} \\(run ${id}\\): started`, 'g'))?.length ?? 0), 0);
      expect(boots, cell).toBe(1);
    }
    expect(figures(dir)).toEqual(reference);
  });

  it('stops workers on SIGTERM with exit code 0', async () => {
    for (const name of ['wB', 'wC']) {
      const w = workers.find((x) => x.name === name)!;
      w.child.kill('SIGTERM');
      const r = await w.child;
      expect(r.exitCode, w.log()).toBe(0);
      expect(w.log()).toMatch(new RegExp(`worker ${name}: stopped`));
    }
  });

  it('cancels a fleet run for good: its queued jobs leave Redis, a worker takes none of it, --resume refuses', async () => {
    for (const w of workers.filter((x) => x.child.exitCode === null)) {
      w.child.kill('SIGTERM');
      await w.child;
    }
    const results = join(tmp, 'cancel');
    const run = kexpChild(['run', experimentFile, '--redis', url, '--store', shared, '--results', results]);
    // No worker runs: the coordinator queues the builds and waits.
    await watch(run).waitFor(/running: /, 120_000);
    run.kill('SIGKILL');
    await run;
    const [listed] = JSON.parse((await kexp(['runs', '--results', results, '--json'])).stdout) as { id: string; dir: string }[];
    const { id, dir } = listed!;
    const keys = async (): Promise<string[]> => (await execa('redis-cli', ['-p', String(port), '-a', password, '--no-auth-warning', '--scan', '--pattern', `*${id}*`])).stdout.split('\n').filter(Boolean);
    expect((await keys()).length).toBeGreaterThan(0);

    const cancelled = await kexp(['run', '--cancel', id, '--redis', url, '--results', results, '--json']);
    expect(cancelled.exitCode, cancelled.stderr).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ run: id, state: 'incomplete', removed: 2, running: 0 });
    expect(manifestOf(dir).cancelledAt).toBeTruthy();
    expect(await keys()).toEqual([`kexp:cancelled:${id}`]);

    const d = startWorker('wD');
    await d.watcher.waitFor(/taking jobs/, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(d.watcher.text()).not.toContain(`(run ${id})`);
    d.child.kill('SIGTERM');
    await d.child;

    const resumed = await kexp(['run', '--resume', id, '--redis', url, '--results', results]);
    expect(resumed.exitCode).toBe(2);
    expect(resumed.stderr).toMatch(new RegExp(`run ${id} was cancelled`));
    const local = await kexp(['run', '--cancel', id, '--results', results]);
    expect(local.exitCode).toBe(2);
  });

  it('survives a worker SIGKILLed mid-build: no make left, the build finished by another worker, the run complete', async () => {
    // A variant of its own (a file no build reads), so that the kernel really builds: a relink.
    const patch = ['From: kexp test <kexp@localhost>', 'Subject: [PATCH] kexp fleet test: a file the build does not read', '', '---', 'diff --git a/Documentation/kexp-fleet-test.txt b/Documentation/kexp-fleet-test.txt', 'new file mode 100644', '--- /dev/null', `+++ b/Documentation/kexp-fleet-test.txt`, '@@ -0,0 +1 @@', `+kexp fleet test ${Date.now()}`, ''].join('\n');
    const root = scratchRoot({ killbuild: { '6.12/0001-kexp-fleet-test.patch': patch } });
    const file = join(root, 'killbuild.json');
    writeFileSync(file, JSON.stringify({ name: 'killbuild', kernels: ['6.12'], variants: ['killbuild'], workloads: [{ name: 'uffd-populate' }], sizes: [64, 128] }));
    const k1 = kexpChild(['worker', '--redis', url, '--store', shared, '--jobs', '1', '--name', 'wK1'], { KEXP_ROOT: root });
    const k2 = kexpChild(['worker', '--redis', url, '--store', shared, '--jobs', '1', '--name', 'wK2'], { KEXP_ROOT: root });
    const w1 = watch(k1);
    const w2 = watch(k2);
    workers.push({ name: 'wK1', child: k1, log: w1.text }, { name: 'wK2', child: k2, log: w2.text });
    await Promise.all([w1.waitFor(/taking jobs/, 30_000), w2.waitFor(/taking jobs/, 30_000)]);
    const run = kexp(['run', file, '--redis', url, '--store', shared, '--results', join(tmp, 'killbuild'), '--json'], { KEXP_ROOT: root });
    const builder = await Promise.race([w1.waitFor(/build 6\.12\/killbuild \(run \S+\): started/, 240_000).then(() => ({ child: k1, other: 'wK2' })), w2.waitFor(/build 6\.12\/killbuild \(run \S+\): started/, 240_000).then(() => ({ child: k2, other: 'wK1' }))]);
    const pid = builder.child.pid!;
    const makeRuns = (): boolean => processesOf(pid).some((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'make';
      } catch {
        return false;
      }
    });
    for (let i = 0; i < 1200 && !makeRuns(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(makeRuns(), 'the builder runs make').toBe(true);
    await new Promise((r) => setTimeout(r, 2000));
    builder.child.kill('SIGKILL');
    await builder.child;
    for (let i = 0; i < 50 && processesOf(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(processesOf(pid), 'processes the killed builder left behind').toEqual([]);
    const done = await run;
    expect(done.exitCode, done.stderr).toBe(0);
    const m = manifestOf(lastJson<{ dir: string }>(done.stdout).dir);
    expect(m.state).toBe('complete');
    const built = m.artifacts.kernels['6.12/killbuild']!;
    expect(built.worker).toBe(builder.other);
    expect(built.key).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.values(m.cells).every((c) => c.state === 'done' && c.status === 'ok')).toBe(true);
    // The artifact appeared whole in the shared store; nothing half-written was left there.
    expect(existsSync(join(shared, 'store', 'kernels', built.key, 'SHA256SUMS'))).toBe(true);
    expect(existsSync(join(shared, 'store', '.tmp')) ? readdirSync(join(shared, 'store', '.tmp')) : []).toEqual([]);
    for (const w of [k1, k2]) if (w.exitCode === null) w.kill('SIGTERM');
  });

  it('hands a cell back when its worker gets SIGTERM mid-boot, and another worker finishes it', async () => {
    const s1 = startWorker('wS1');
    const s2 = startWorker('wS2');
    await Promise.all([s1.watcher.waitFor(/taking jobs/, 30_000), s2.watcher.waitFor(/taking jobs/, 30_000)]);
    const run = kexp(['run', experimentFile, '--redis', url, '--store', shared, '--results', join(tmp, 'handback'), '--json']);
    const [, cellId] = await s1.watcher.waitFor(/cell (\S+) \(run \S+\): started/, 240_000);
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    s1.child.kill('SIGTERM');
    const stopped = await s1.child;
    expect(stopped.exitCode, s1.watcher.text()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(s1.watcher.text()).toMatch(/handed back/);
    expect(processesOf(s1.child.pid!)).toEqual([]);
    const done = await run;
    expect(done.exitCode, done.stderr).toBe(0);
    const out = lastJson<{ dir: string }>(done.stdout);
    expectEveryCellOnce(out.dir);
    expect(manifestOf(out.dir).cells[cellId!]?.worker).toBe('wS2');
    expect(figures(out.dir)).toEqual(reference);
    s2.child.kill('SIGTERM');
    expect((await s2.child).exitCode).toBe(0);
  });

  it('gives up on a cell that kills its worker every time: a failed cell with an infrastructure reason, after a bounded number of tries; the run goes on', async () => {
    let victim: string | undefined;
    let kills = 0;
    let spawned = 0;
    const spawnWorker = (): void => {
      const { child, watcher } = startWorker(`wP${++spawned}`);
      let killed = false;
      child.stderr!.on('data', () => {
        const first = /cell (\S+) \(run \S+\): started/.exec(watcher.text());
        if (!first || killed) return;
        victim ??= first[1]!;
        if (!new RegExp(`cell ${victim.replace(/[.]/g, '\\.')} \\(run \\S+\\): started`).test(watcher.text())) return;
        killed = true;
        // The cell "kills its worker": SIGKILL while it boots, and a new worker takes the place.
        setTimeout(() => {
          kills++;
          child.kill('SIGKILL');
          spawnWorker();
        }, 1500);
      });
    };
    spawnWorker();
    spawnWorker();
    const results = join(tmp, 'poison');
    const done = await kexp(['run', experimentFile, '--redis', url, '--store', shared, '--results', results, '--json']);
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
    for (const w of workers.filter((x) => x.name.startsWith('wP') && x.child.exitCode === null)) w.child.kill('SIGTERM');
  });

  it('reaches a Redis over TLS (rediss://, a password, a private CA) and says so when the certificate is not trusted', async () => {
    const cert = join(tmp, 'tls.crt');
    const key = join(tmp, 'tls.key');
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    const tlsPort = await freePort();
    const tlsRedis = execa('redis-server', ['--port', '0', '--tls-port', String(tlsPort), '--bind', '127.0.0.1', '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--requirepass', password, '--dir', tmp, '--save', '', '--appendonly', 'no'], { reject: false, stdout: 'ignore', stderr: 'ignore' });
    try {
      const tlsUrl = `rediss://:${password}@127.0.0.1:${tlsPort}`;
      let up = false;
      for (let i = 0; i < 50 && !up; i++) {
        up = (await execa('redis-cli', ['--tls', '--cacert', cert, '-p', String(tlsPort), '-a', password, '--no-auth-warning', 'ping'], { reject: false })).stdout.trim() === 'PONG';
        if (!up) await new Promise((r) => setTimeout(r, 100));
      }
      expect(up, 'redis-server with TLS answers').toBe(true);
      const untrusted = await kexp(['worker', '--redis', tlsUrl]);
      expect(untrusted.exitCode).toBe(3);
      expect(untrusted.stderr).toMatch(/TLS certificate/);
      expect(untrusted.stderr).toContain(`rediss://:***@127.0.0.1:${tlsPort}`);
      const child = kexpChild(['worker', '--redis', tlsUrl, '--name', 'wTLS'], { NODE_EXTRA_CA_CERTS: cert });
      const w = watch(child);
      await w.waitFor(/worker wTLS: taking jobs from rediss:\/\/:\*\*\*@127\.0\.0\.1/, 30_000);
      child.kill('SIGTERM');
      expect((await child).exitCode, w.text()).toBe(0);
      expect(w.text()).not.toContain(password);
    } finally {
      tlsRedis.kill('SIGTERM');
      await tlsRedis;
    }
  });

  it('fails within seconds on a wrong password or an unreachable Redis, naming the URL without the password', async () => {
    const wrong = `redis://:not-${password}@127.0.0.1:${port}`;
    for (const args of [['run', experimentFile, '--redis', wrong, '--results', join(tmp, 'bad')], ['worker', '--redis', wrong]]) {
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
