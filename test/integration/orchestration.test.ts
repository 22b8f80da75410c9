/**
 * Orchestration without kernels (issue 14, item 5): the real built CLI against a fake kernel tree
 * (test/helpers/fake-kernel-tree.ts: its Makefile "builds" a bzImage in a second) and a fake QEMU
 * (test/fakes/bin/qemu-system-x86_64: replays captured consoles and result channels, see
 * test/fakes/README.md). Resume (after Ctrl-C and after SIGKILL), a result arriving twice, crash
 * classification (panic, BUG/Oops, QEMU's own failure), a silent hang caught by the watchdog,
 * partial output, the KVM probe, build and config failures, in seconds (about 35-50 s for the
 * file on the shared 2-core machine). Worker faults: orchestration-fleet.test.ts. What these tests claim about kexp's own bookkeeping they check on its records
 * (manifest.json, cell.json, samples.jsonl, report.json); what a real kernel or QEMU does is the
 * other integration tests' business.
 *
 * One cache for the file (the fake kernel and the guest image are built once, by the first run);
 * one results folder per test.
 */
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_COMPILE_ERROR, FAKE_DROPPED_SYMBOL, writeFakeKernelTree } from '../helpers/fake-kernel-tree.js';
import { fakeQemuCalls, fakeQemuEnv, killLeftoverFakes, processAlive, type ScenarioName, scenarioFixture, scenarioDir } from '../helpers/fake-qemu.js';
import { kexp, kexpChild } from '../helpers/kexp.js';

let work = '';
let cache = '';
let tree = '';
let counter = 0;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kexp-orchestration-'));
  cache = join(work, 'cache');
  tree = writeFakeKernelTree(join(work, 'linux'));
});
const callsFiles: string[] = [];
afterAll(() => {
  killLeftoverFakes(callsFiles);
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Case {
  dir: string;
  results: string;
  calls: string;
  env: Record<string, string>;
  experiment: string;
}

/** A fresh results folder, a calls file and an experiment over the fake tree, for one scenario. */
function newCase(
  scenario: ScenarioName,
  experiment: { repetitions?: number; watchdogSeconds?: number; kernelTree?: string; accel?: 'auto' | 'tcg' } = {},
): Case {
  const dir = join(work, `case-${counter++}-${scenario}`);
  mkdirSync(dir, { recursive: true });
  const results = join(dir, 'results');
  const calls = join(dir, 'qemu-calls.jsonl');
  callsFiles.push(calls);
  const file = join(dir, 'experiment.json');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        name: 'fake',
        // The plan the captured channel answers: uffd-populate at 64 and 128 pages.
        kernels: [{ tree: experiment.kernelTree ?? tree, name: 'fake' }],
        variants: ['baseline'],
        workloads: [{ name: 'uffd-populate' }],
        sizes: [64, 128],
        repetitions: experiment.repetitions ?? 1,
        collectors: ['ftrace', 'kprobe'],
        functions: ['__get_user_pages', 'handle_userfault'],
        accel: experiment.accel ?? 'tcg',
        timeouts: { watchdogSeconds: experiment.watchdogSeconds ?? 30, bootSeconds: 60 },
      },
      null,
      2,
    )}\n`,
  );
  return { dir, results, calls, experiment: file, env: { ...fakeQemuEnv(scenario, calls), KEXP_CACHE: cache, KEXP_RESULTS: results } };
}

interface CellRecord {
  id: string;
  status: string;
  samples: { pages: number; status: string; reason?: string; counts: Record<string, Record<string, number>> }[];
}
interface Manifest {
  id: string;
  state: string;
  cells: Record<string, { state: string; status?: string; reason?: string }>;
}
interface ReportCell {
  status: string;
  per_page: number | null;
  samples: { ok: number; total: number };
  statusCounts: Record<string, number>;
  reason: string | null;
}

function runDir(c: Case): string {
  const runs = existsSync(c.results) ? readdirSync(c.results) : [];
  expect(runs, `one run record in ${c.results}`).toHaveLength(1);
  return join(c.results, runs[0]!);
}
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const manifestOf = (c: Case): Manifest => readJson<Manifest>(join(runDir(c), 'manifest.json'));
const cellOf = (c: Case, id: string): CellRecord => readJson<CellRecord>(join(runDir(c), 'cells', id, 'cell.json'));
const samplesOf = (c: Case): { cell: string; pages: number; status: string; counts: Record<string, Record<string, number>> }[] =>
  readFileSync(join(runDir(c), 'samples.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
function reportCell(c: Case): ReportCell {
  const report = readJson<{ tables: { rows: { workload: string; cells: ReportCell[] }[] }[] }>(join(runDir(c), 'report.json'));
  return report.tables[0]!.rows[0]!.cells[0]!;
}

/** Until the first cell of a run is recorded and the next one is booting. */
async function waitForFirstCell(c: Case): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const manifestFile = existsSync(c.results) && readdirSync(c.results).length === 1 ? join(runDir(c), 'manifest.json') : '';
    const done = manifestFile && existsSync(manifestFile) ? Object.values(readJson<Manifest>(manifestFile).cells).filter((x) => x.state === 'done') : [];
    if (done.length >= 1 && fakeQemuCalls(c.calls).length >= 2) return;
    if (Date.now() > deadline) throw new Error('the run never finished its first cell');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether kexp would try KVM here (then it probes it first). */
function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The per-page slope of the two sizes of one repetition, from the counts kexp recorded. */
function slope(samples: { pages: number; counts: Record<string, Record<string, number>> }[]): number {
  const at = (pages: number): number => samples.find((s) => s.pages === pages)!.counts.ftrace!.__get_user_pages!;
  return (at(128) - at(64)) / 64;
}

describe('kexp run against the fake kernel tree and the fake QEMU', () => {
  it('a normal run: the fake tree builds, every cell boots once, samples and figures come from the replayed channel', async () => {
    const c = newCase('ok', { repetitions: 2 });
    const r = await kexp(['run', c.experiment, '--jobs', '1'], c.env);
    expect(r.stderr).toMatch(/2 cells in/);
    expect(r.exitCode).toBe(0);
    const manifest = manifestOf(c);
    expect(manifest.state).toBe('complete');
    expect(Object.values(manifest.cells).map((cell) => cell.status)).toEqual(['ok', 'ok']);
    expect(fakeQemuCalls(c.calls)).toHaveLength(2);
    const samples = samplesOf(c);
    expect(samples.map((s) => [s.cell, s.pages, s.status])).toEqual([
      ['fake_baseline_r0', 64, 'ok'],
      ['fake_baseline_r0', 128, 'ok'],
      ['fake_baseline_r1', 64, 'ok'],
      ['fake_baseline_r1', 128, 'ok'],
    ]);
    const cell = reportCell(c);
    expect(cell.status).toBe('ok');
    expect(cell.samples).toEqual({ ok: 4, total: 4 });
    expect(cell.per_page).toBe(slope(samples.filter((s) => s.cell === 'fake_baseline_r0')));
    expect(cell.per_page).toBeGreaterThan(0);
  });

  it("a sample's block that arrives twice on the result channel is counted once", async () => {
    const c = newCase('duplicate');
    const r = await kexp(['run', c.experiment, '--jobs', '1'], c.env);
    expect(r.exitCode).toBe(0);
    const channel = readFileSync(join(runDir(c), 'cells', 'fake_baseline_r0', 'channel.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    // The fake really sent it twice: the first sample's block (its duplicateRange) once more than the capture.
    const [first, last] = readJson<{ duplicateRange: [number, number] }>(join(scenarioDir, 'duplicate.json')).duplicateRange;
    expect(channel).toHaveLength(readFileSync(scenarioFixture('duplicate', 'channel'), 'utf8').split('\n').filter(Boolean).length + last - first + 1);
    expect(channel.filter((l) => l === '@@kexp sample 0 begin')).toHaveLength(2);
    expect(cellOf(c, 'fake_baseline_r0').samples.map((s) => s.pages)).toEqual([64, 128]);
    expect(samplesOf(c).map((s) => s.pages)).toEqual([64, 128]);
    const cell = reportCell(c);
    expect(cell.samples).toEqual({ ok: 2, total: 2 });
    expect(cell.per_page).toBe(slope(samplesOf(c)));
  });

  it('a kernel panic on the console: the cell is crashed with the panic line, QEMU is killed, the run exits 1', async () => {
    const c = newCase('panic', { watchdogSeconds: 30 });
    const started = Date.now();
    const r = await kexp(['run', c.experiment, '--jobs', '1'], c.env);
    const seconds = (Date.now() - started) / 1000;
    const panicLine = /Kernel panic - not syncing: .*/.exec(readFileSync(scenarioFixture('panic', 'console'), 'utf8'))![0].replace(/\r$/, '');
    expect(r.exitCode).toBe(1);
    // Classified from the console, not by the watchdog (30 s).
    expect(seconds).toBeLessThan(25);
    const cell = cellOf(c, 'fake_baseline_r0');
    expect(cell.status).toBe('crashed');
    expect(manifestOf(c).cells.fake_baseline_r0!.status).toBe('crashed');
    expect(cell.samples.map((s) => s.status)).toEqual(['crashed', 'crashed']);
    expect(cell.samples[0]!.reason).toContain(panicLine);
    expect(reportCell(c).status).toBe('crashed');
    expect(reportCell(c).per_page).toBeNull();
    // The fake stays at the panic; kexp must have killed it.
    const [call] = fakeQemuCalls(c.calls);
    expect(processAlive(call!.pid)).toBe(false);
  });

  it('kernel BUG, Oops, then panic, and QEMU exits by itself: crashed, with the first fatal line as the reason', async () => {
    const c = newCase('oops', { watchdogSeconds: 30 });
    const r = await kexp(['run', c.experiment, '--jobs', '1'], c.env);
    expect(r.exitCode).toBe(1);
    const bugLine = /kernel BUG at .*/.exec(readFileSync(scenarioFixture('oops', 'console'), 'utf8'))![0].replace(/\r$/, '');
    const cell = cellOf(c, 'fake_baseline_r0');
    expect(cell.status).toBe('crashed');
    expect(cell.samples.map((s) => s.status)).toEqual(['crashed', 'crashed']);
    // The first fatal event names the failure, not the panic that oops=panic adds after it.
    expect(cell.samples[0]!.reason).toContain(bugLine);
    expect(cell.samples[0]!.reason).not.toContain('Fatal exception');
  });

  it('QEMU itself fails (exit 1, its complaint on stderr): the cell is failed with what QEMU said', async () => {
    const c = newCase('qemu-error');
    const r = await kexp(['run', c.experiment, '--jobs', '1'], c.env);
    expect(r.exitCode).toBe(1);
    const complaint = readFileSync(scenarioFixture('qemu-error', 'stderr'), 'utf8').split('\n').filter(Boolean).at(-1)!;
    const cell = cellOf(c, 'fake_baseline_r0');
    expect(cell.status).toBe('failed');
    expect(cell.samples.map((s) => s.status)).toEqual(['failed', 'failed']);
    expect(cell.samples[0]!.reason).toContain('qemu-system-x86_64 failed');
    expect(cell.samples[0]!.reason).toContain(complaint);
    // QEMU's own lines go to the cell's console log, marked as QEMU's.
    expect(readFileSync(join(runDir(c), 'cells', 'fake_baseline_r0', 'console.log'), 'utf8')).toContain(`[qemu] ${complaint}`);
  });

  it('accel auto: the KVM probe is a boot like the others; a probe that panics sends the run to TCG, with the reason', async () => {
    const c = newCase('panic', { accel: 'auto' });
    const r = await kexp(['run', c.experiment, '--jobs', '1'], c.env);
    expect(r.exitCode).toBe(1);
    const accel = readJson<{ accel: { accel: string; reason: string } }>(join(runDir(c), 'manifest.json')).accel;
    expect(accel.accel).toBe('tcg');
    const boots = fakeQemuCalls(c.calls).map((call) => call.argv[call.argv.indexOf('-accel') + 1]);
    if (kvmUsable()) {
      // The probe, then the cell.
      expect(accel.reason).toMatch(/^TCG: a probe boot under KVM did not reach userspace \(crashed: Kernel panic - not syncing/);
      expect(boots).toEqual(['kvm', 'tcg,thread=multi']);
      expect(readJson<{ ok: boolean }>(join(cache, 'kvm-probe.json')).ok).toBe(false);
    } else {
      expect(accel.reason).toMatch(/^TCG: \/dev\/kvm (does not exist|is not accessible)/);
      expect(boots).toEqual(['tcg,thread=multi']);
    }
  });

  it('a silent hang: the watchdog ends the cell as hung, the sample reported before stays ok', async () => {
    const c = newCase('hang', { watchdogSeconds: 5 });
    const r = await kexp(['run', c.experiment, '--jobs', '1'], c.env);
    expect(r.exitCode).toBe(1);
    const cell = cellOf(c, 'fake_baseline_r0');
    expect(cell.status).toBe('hung');
    expect(cell.samples.map((s) => [s.pages, s.status])).toEqual([
      [64, 'ok'],
      [128, 'hung'],
    ]);
    expect(cell.samples[1]!.reason).toMatch(/no progress on the result channel for 5 s/);
    expect(reportCell(c).statusCounts.hung).toBe(1);
    const [call] = fakeQemuCalls(c.calls);
    expect(processAlive(call!.pid)).toBe(false);
  });

  it('partial output: the channel stops and QEMU exits; the missing sample is reported, not dropped', async () => {
    const c = newCase('partial');
    const r = await kexp(['run', c.experiment, '--jobs', '1'], c.env);
    expect(r.exitCode).toBe(1);
    const cell = cellOf(c, 'fake_baseline_r0');
    expect(cell.status).toBe('crashed');
    expect(cell.samples.map((s) => [s.pages, s.status])).toEqual([
      [64, 'ok'],
      [128, 'crashed'],
    ]);
    expect(cell.samples[1]!.reason).toMatch(/not run: the VM stopped before the agent finished its plan/);
    expect(reportCell(c).samples).toEqual({ ok: 1, total: 2 });
  });

  it('resume after Ctrl-C: the run is kept incomplete, --resume boots only the cells that did not finish', async () => {
    const c = newCase('slow-ok', { repetitions: 3 });
    const child = kexpChild(['run', c.experiment, '--jobs', '1'], c.env);
    await waitForFirstCell(c);
    child.kill('SIGINT');
    const interrupted = await child;
    expect(interrupted.exitCode).toBe(130);
    const before = manifestOf(c);
    expect(before.state).toBe('incomplete');
    const doneBefore = Object.entries(before.cells).filter(([, x]) => x.state === 'done');
    expect(doneBefore.length).toBeGreaterThanOrEqual(1);
    expect(doneBefore.length).toBeLessThan(3);
    for (const call of fakeQemuCalls(c.calls)) expect(processAlive(call.pid)).toBe(false);

    const bootsBefore = fakeQemuCalls(c.calls).length;
    const resumed = await kexp(['run', '--resume', before.id, '--jobs', '1'], c.env);
    expect(resumed.exitCode).toBe(0);
    expect(fakeQemuCalls(c.calls).length - bootsBefore).toBe(3 - doneBefore.length);
    const after = manifestOf(c);
    expect(after.state).toBe('complete');
    expect(Object.values(after.cells).map((x) => [x.state, x.status])).toEqual([
      ['done', 'ok'],
      ['done', 'ok'],
      ['done', 'ok'],
    ]);
    // Every cell's samples once, the resumed ones included.
    expect(samplesOf(c).map((s) => `${s.cell}/${s.pages}`)).toEqual([
      'fake_baseline_r0/64',
      'fake_baseline_r0/128',
      'fake_baseline_r1/64',
      'fake_baseline_r1/128',
      'fake_baseline_r2/64',
      'fake_baseline_r2/128',
    ]);
    expect(reportCell(c).samples).toEqual({ ok: 6, total: 6 });
  });
  it('resume after the run was killed outright (SIGKILL): the cell it was booting runs again, the finished ones do not', async () => {
    const c = newCase('slow-ok', { repetitions: 3 });
    const child = kexpChild(['run', c.experiment, '--jobs', '1'], c.env);
    await waitForFirstCell(c);
    child.kill('SIGKILL');
    await child;
    // Its QEMU dies with it (the parent-death signal; orphans.test.ts), so it cannot write into the
    // cell that the resumed run boots again. processAlive counts a zombie, and the killed fake is
    // one until init reaps it (here within about 2 s).
    const deadline = Date.now() + 5000;
    while (fakeQemuCalls(c.calls).some((call) => processAlive(call.pid))) {
      if (Date.now() > deadline) throw new Error('the fake QEMU of the killed run outlived it by 5 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const before = manifestOf(c);
    // Nobody marked it: the record still says running.
    expect(before.state).toBe('running');
    const doneBefore = Object.values(before.cells).filter((x) => x.state === 'done').length;
    expect(doneBefore).toBeGreaterThanOrEqual(1);
    expect(doneBefore).toBeLessThan(3);
    const bootsBefore = fakeQemuCalls(c.calls).length;
    const resumed = await kexp(['run', '--resume', before.id, '--jobs', '1'], c.env);
    expect(resumed.exitCode).toBe(0);
    expect(fakeQemuCalls(c.calls).length - bootsBefore).toBe(3 - doneBefore);
    const after = manifestOf(c);
    expect(after.state).toBe('complete');
    expect(Object.values(after.cells).map((x) => x.status)).toEqual(['ok', 'ok', 'ok']);
    expect(samplesOf(c)).toHaveLength(6);
  });
});

describe('build failures of a kernel tree', () => {
  it('a compile error: kexp build exits 2 and names the file and line from the compiler output', async () => {
    const broken = writeFakeKernelTree(join(work, 'broken-build', 'linux'), { fail: 'build', salt: 'broken-build' });
    const r = await kexp(['build', '--tree', broken], { KEXP_CACHE: cache });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('make bzImage failed for kernel linux, variant baseline');
    expect(r.stderr).toContain(FAKE_COMPILE_ERROR);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a setting that does not survive olddefconfig: exit 2 naming the symbol and its unmet dependency', async () => {
    const broken = writeFakeKernelTree(join(work, 'broken-config', 'linux'), { fail: 'olddefconfig', salt: 'broken-config' });
    const r = await kexp(['build', '--tree', broken], { KEXP_CACHE: cache });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('kernel configuration does not have what the fragments ask for');
    expect(r.stderr).toContain(`CONFIG_${FAKE_DROPPED_SYMBOL}`);
    expect(r.stderr).toContain('FAKE_NEVER_SET');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a compile error in a run: the cell fails with the compiler message, no VM is booted, the run exits 1', async () => {
    const broken = writeFakeKernelTree(join(work, 'broken-run', 'linux'), { fail: 'build', salt: 'broken-run' });
    const c = newCase('ok', { kernelTree: broken });
    const r = await kexp(['run', c.experiment, '--jobs', '1'], c.env);
    expect(r.exitCode).toBe(1);
    // The table names the failing file and line (the report wraps the text: compare without line breaks).
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('FAILED: build failed: make bzImage failed for kernel fake, variant baseline');
    expect(r.stdout).toContain('mm/gup.c:1828:17: error:');
    const cell = manifestOf(c).cells.fake_baseline_r0!;
    expect(cell.status).toBe('failed');
    expect(cell.reason).toContain(FAKE_COMPILE_ERROR);
    expect(fakeQemuCalls(c.calls)).toHaveLength(0);
  });
});
