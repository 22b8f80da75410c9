/**
 * The kernel's own selftests as workloads, for real: built from the tree and variant each kernel
 * was built from, run in the guest under QEMU (TCG here), their TAP read into per-test results,
 * the kernel functions counted around them. Reuses the 6.12 kernels the other tests build; the
 * one extra variant (a test fixture that breaks MADV_POPULATE_WRITE) is a one-file rebuild.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHost } from '../../src/doctor/probe.js';
import type { Figure, SampleRecord } from '../../src/records/index.js';
import { kexp, repoRoot, scratchRoot } from '../helpers/kexp.js';

interface BootJson {
  status: string;
  reason: string | null;
  samples: SampleRecord[];
  figures: Figure[];
  kselftests: { label: string; dir: string; program: string; key: string; cached: boolean; seconds: number }[];
  consoleLog: string;
}

async function bootJson(args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; json: BootJson; stderr: string }> {
  // kexp's own options before a program's "--".
  const cut = args.includes('--') ? args.indexOf('--') : args.length;
  const result = await kexp(['boot', ...args.slice(0, cut), '--accel', 'tcg', '--json', ...args.slice(cut)], env);
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`kexp boot printed no JSON (exit ${result.exitCode}):\n${result.stderr}`);
  return { exitCode: result.exitCode, json: JSON.parse(line) as BootJson, stderr: result.stderr };
}

beforeAll(async () => {
  await ensureHost(repoRoot);
});

describe('kexp boot --kselftest mm:madv_populate, 6.12 baseline', () => {
  let boot: Awaited<ReturnType<typeof bootJson>>;
  beforeAll(async () => {
    boot = await bootJson(['--kernel', '6.12', '--kselftest', 'mm:madv_populate']);
    console.log(`6.12 baseline mm:madv_populate: ${boot.json.status}, kselftests ${JSON.stringify(boot.json.kselftests)}`);
  });

  it('builds the test from the 6.12 tree, statically, and runs it in the guest', () => {
    expect(boot.exitCode, boot.stderr).toBe(0);
    expect(boot.json.kselftests).toEqual([expect.objectContaining({ label: 'mm:madv_populate', dir: 'mm', program: 'madv_populate' })]);
    const [sample] = boot.json.samples;
    expect(sample).toMatchObject({
      workload: 'mm:madv_populate',
      status: 'ok',
      unit: 'run',
      program: { kind: 'kselftest', program: '/kselftest/mm/madv_populate', exit: 0 },
    });
  });

  it("reads its TAP: every planned test reported, all passed, as the test's own plan and Totals say", () => {
    const sample = boot.json.samples[0]!;
    const output = readFileSync(join(dirname(boot.json.consoleLog), sample.program!.outputFile!), 'utf8');
    const planned = Number(/^1\.\.(\d+)$/m.exec(output)![1]);
    const totals = /^# Totals: pass:(\d+) fail:(\d+) xfail:\d+ xpass:\d+ skip:(\d+)/m.exec(output)!;
    expect(planned).toBeGreaterThan(0);
    expect(sample.tests!.results).toHaveLength(planned);
    expect(sample.tests!.totals).toMatchObject({ pass: Number(totals[1]), fail: Number(totals[2]), skip: Number(totals[3]), error: 0 });
    expect(sample.tests!.totals.pass + sample.tests!.totals.skip).toBe(planned);
    expect(sample.tests!.problems).toEqual([]);
  });

  it('counted __get_user_pages around the test: both collectors, in agreement, one figure per run', () => {
    const sample = boot.json.samples[0]!;
    // MADV_POPULATE_(READ|WRITE) is __get_user_pages' way in: nothing else in the guest calls it.
    expect(sample.counts.ftrace?.__get_user_pages).toBeGreaterThan(0);
    expect(sample.counts.kprobe?.__get_user_pages).toBe(sample.counts.ftrace?.__get_user_pages);
    const gup = boot.json.figures.find((f) => f.function === '__get_user_pages')!;
    expect(gup).toMatchObject({ status: 'ok', per_page: null, unit: 'run', per_run: { mean: sample.counts.ftrace!.__get_user_pages, runs: 1 } });
  });
});

describe('kexp boot --kselftest "kvm:demand_paging_test -u MISSING -b {n}M", 6.12 early-break', () => {
  let boot: Awaited<ReturnType<typeof bootJson>>;
  beforeAll(async () => {
    boot = await bootJson(['--kernel', '6.12', '--variant', 'early-break', '--pages', '1,2', '--kselftest', 'kvm:demand_paging_test -u MISSING -b {n}M']);
    console.log(
      `6.12 early-break demand_paging_test: ${boot.json.status}; ${boot.json.samples.map((s) => `${s.size} MiB ${s.status}${s.reason ? ` (${s.reason})` : ''}`).join(', ')}`,
    );
  });

  it('runs the KVM test at both sizes through its own -b argument: one test each, passed or skipped with its reason', () => {
    expect(boot.json.status).toBe('ok');
    expect(boot.json.samples.map((s) => [s.size, s.pages, s.program?.argv])).toEqual([
      [1, 256, ['-u', 'MISSING', '-b', '1M']],
      [2, 512, ['-u', 'MISSING', '-b', '2M']],
    ]);
    for (const s of boot.json.samples) {
      expect(s.tests!.results).toHaveLength(1);
      if (s.status === 'skipped') expect(s.reason).toBeTruthy();
      else expect(s).toMatchObject({ status: 'ok', tests: { totals: { pass: 1 } }, program: { exit: 0 } });
    }
  });

  it("counted the userfaultfd faults of the nested guest's memory around the test: per page, on a line", () => {
    const ran = boot.json.samples.filter((s) => s.status === 'ok');
    if (ran.length < 2) return expect(boot.json.samples.every((s) => s.status === 'skipped')).toBe(true);
    const [small, large] = ran.map((s) => s.counts.ftrace!.handle_userfault!);
    // handle_userfault runs only for a userfaultfd range: the test's guest memory. Twice the memory, more faults.
    expect(small).toBeGreaterThan(0);
    expect(large).toBeGreaterThan(small!);
    const f = boot.json.figures.find((x) => x.function === 'handle_userfault')!;
    expect(f.status).toBe('ok');
    expect(f.per_page).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger(f.per_page)).toBe(true);
    expect(f.residual).toBe(0);
  });
});

describe('kselftests across variants: a test that passes on baseline and fails on a variant', () => {
  it('is a finding: exit 1, the failing tests named, a line under the test table', async () => {
    const patch = readFileSync(join(repoRoot, 'test/fixtures/patches/selftest-break/6.12/0001-kexp-test-madv-populate-write-efault.patch'), 'utf8');
    const root = scratchRoot({ baseline: {}, 'selftest-break': { '6.12/0001-kexp-test-madv-populate-write-efault.patch': patch } });
    const experiment = join(root, 'kselftest-break.json');
    writeFileSync(
      experiment,
      JSON.stringify({
        name: 'kselftest-break',
        kernels: ['6.12'],
        variants: ['baseline', 'selftest-break'],
        workloads: [{ kselftest: 'mm:madv_populate' }],
        functions: ['__get_user_pages', 'handle_userfault'],
        accel: 'tcg',
      }),
    );
    const results = mkdtempSync(join(tmpdir(), 'kexp-results-'));
    const r = await kexp(['run', experiment, '--results', results, '--json'], { KEXP_ROOT: root });
    expect(r.exitCode, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { dir: string; state: string; findings: boolean };
    expect(out).toMatchObject({ state: 'complete', findings: true });
    const text = readFileSync(join(out.dir, 'report.txt'), 'utf8');
    console.log(text);
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toMatch(/FINDINGS \(\d+\): tests that pass on baseline and fail on another variant:/);
    expect(flat).toContain('! 6.12, mm:madv_populate: "MADV_POPULATE_WRITE with PROT_WRITE" passes on baseline and fails on selftest-break');
    const report = JSON.parse(readFileSync(join(out.dir, 'report.json'), 'utf8')) as {
      tests: { findings: { variant: string; test: string }[]; tables: { rows: { workload: string; cells: { variant: string; status: string }[] }[] }[] };
    };
    expect(report.tests.findings.length).toBeGreaterThan(0);
    expect(report.tests.findings.every((f) => f.variant === 'selftest-break')).toBe(true);
    expect(report.tests.findings.map((f) => f.test)).toContain('MADV_POPULATE_WRITE with PROT_WRITE');
    // The READ tests do not break: only what the patch touched is a finding.
    expect(report.tests.findings.map((f) => f.test)).not.toContain('MADV_POPULATE_READ with PROT_READ');
    const program = report.tests.tables[0]!.rows[0]!;
    expect(program.cells.map((c) => [c.variant, c.status])).toEqual([
      ['baseline', 'pass'],
      ['selftest-break', 'fail'],
    ]);
    // The figure of a cell whose test failed is not a number.
    const figures = JSON.parse(readFileSync(join(out.dir, 'report.json'), 'utf8')) as {
      tables: { rows: { cells: { variant: string; status: string; per_page: number | null }[] }[] }[];
    };
    expect(figures.tables[0]!.rows[0]!.cells.map((c) => c.status)).toEqual(['ok', 'failed']);
  });
});

describe("kexp boot --overlay DIR -- PROGRAM {n}: a dynamic executable of the user's", () => {
  it('carries it with its shared libraries, runs it at each size, and takes its exit status as the verdict', async () => {
    const overlay = mkdtempSync(join(tmpdir(), 'kexp-overlay-'));
    const source = join(overlay, '..', `${overlay.split('/').pop()}.c`);
    writeFileSync(
      source,
      '#include <stdio.h>\n#include <stdlib.h>\nint main(int c, char **v) { long n = atol(v[1]); char *p = calloc(n, 4096); for (long i = 0; i < n; i++) p[i * 4096] = 1; printf("touched %ld pages\\n", n); return p[0] == 1 ? 0 : 1; }\n',
    );
    mkdirSync(join(overlay, 'usr', 'local', 'bin'), { recursive: true });
    await execa('gcc', ['-O2', '-o', join(overlay, 'usr', 'local', 'bin', 'touch-pages'), source]);
    const { exitCode, json, stderr } = await bootJson(['--kernel', '6.12', '--pages', '64,128', '--overlay', overlay, '--', 'touch-pages', '{n}']);
    expect(exitCode, stderr).toBe(0);
    expect(json.samples.map((s) => [s.pages, s.status, s.program?.program, s.program?.argv, s.program?.exit])).toEqual([
      [64, 'ok', '/usr/local/bin/touch-pages', ['64'], 0],
      [128, 'ok', '/usr/local/bin/touch-pages', ['128'], 0],
    ]);
    const output = readFileSync(join(dirname(json.consoleLog), json.samples[1]!.program!.outputFile!), 'utf8');
    expect(output).toContain('touched 128 pages');
    rmSync(overlay, { recursive: true, force: true });
    rmSync(source, { force: true });
  });
});

describe('kselftests: bad input before any boot', () => {
  it('names the tests the kernel has for an unknown one, the targets for an unknown target, a missing program (exit 2)', async () => {
    const unknownTest = await kexp(['boot', '--kernel', '6.12', '--kselftest', 'mm:no_such_test']);
    expect(unknownTest.exitCode).toBe(2);
    expect(unknownTest.stderr).toContain('kernel 6.12 has no test "no_such_test" in mm');
    expect(unknownTest.stderr).toMatch(/known mm tests for 6\.12: .*madv_populate.*uffd-unit-tests/);
    const unknownTarget = await kexp(['boot', '--kernel', '6.1', '--kselftest', 'nosuch:x']);
    expect(unknownTarget.exitCode).toBe(2);
    expect(unknownTarget.stderr).toMatch(/known targets for 6\.1: .*kvm.*vm/);
    const missing = await kexp(['boot', '--kernel', '6.12', '--', '/usr/bin/kexp-no-such-program']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('program /usr/bin/kexp-no-such-program is not in the guest image and not on this host');
  });

  it("shows the compiler's last lines for a test that does not build from the variant's tree (exit 2, no boot)", async () => {
    const patch = readFileSync(join(repoRoot, 'test/fixtures/patches/selftest-nobuild/6.12/0001-kexp-test-madv-populate-does-not-compile.patch'), 'utf8');
    const root = scratchRoot({ 'selftest-nobuild': { '6.12/0001-kexp-test-madv-populate-does-not-compile.patch': patch } });
    const r = await kexp(['boot', '--kernel', '6.12', '--variant', 'selftest-nobuild', '--kselftest', 'mm:madv_populate', '--accel', 'tcg'], {
      KEXP_ROOT: root,
    });
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('kselftest mm:madv_populate does not build for 6.12/selftest-nobuild');
    expect(r.stderr).toMatch(/\| .*madv_populate\.c:\d+:\d+: error: .kexp_test_fixture_undeclared. undeclared/);
    expect(r.stderr).not.toMatch(/booting under/);
  });
});
