import { describe, expect, it } from 'vitest';
import type { CellRecord } from '../../../src/results/store.js';
import type { SampleRecord, TestResult, ReportInput } from '../../../src/records/index.js';
import { figureRows, testRows } from '../../../src/results/figures.js';
import { compareTests, compareRuns } from '../../../src/report/compare.js';
import { buildTables, buildTestReport, cellFromRow, testVerdict } from '../../../src/report/model.js';
import { renderers } from '../../../src/report/renderer.js';

function program(workload: string, results: TestResult[] | null, rep = 0, extra: Partial<SampleRecord> = {}): SampleRecord {
  const failed = results?.some((r) => r.status === 'fail');
  return {
    workload,
    args: [],
    pages: 0,
    rep,
    status: results === null ? 'crashed' : failed ? 'failed' : 'ok',
    counts: results === null ? {} : { ftrace: { __get_user_pages: 10 + rep } },
    result: null,
    unit: 'run',
    size: 0,
    ...(results
      ? {
          program: { kind: 'kselftest', program: `/kselftest/mm/${workload}`, argv: [], exit: failed ? 1 : 0, tail: [], stdoutBytes: 1, stderrBytes: 0 },
          tests: { results, totals: { pass: 0, fail: 0, skip: 0, xfail: 0, error: 0 }, problems: [] },
        }
      : {}),
    ...extra,
  };
}

function cell(variant: string, rep: number, samples: SampleRecord[]): CellRecord {
  return {
    schema: 'kexp/cell@1',
    id: `6.12_${variant}_r${rep}`,
    kernel: '6.12',
    variant,
    rep,
    status: 'ok',
    accel: 'tcg',
    kernelKey: 'k',
    imageKey: 'i',
    seconds: 1,
    worker: 'local',
    traceable: null,
    warnings: [],
    agentErrors: [],
    samples,
  } as CellRecord;
}

const pass = (number: number, name: string): TestResult => ({ number, name, status: 'pass' });
const fail = (number: number, name: string, reason: string): TestResult => ({ number, name, status: 'fail', reason });
const skip = (number: number, name: string, reason: string): TestResult => ({ number, name, status: 'skip', reason });

const cells = [
  cell('baseline', 0, [program('mm:uffd-unit-tests', [pass(1, 'register'), pass(2, 'populate'), skip(3, 'hugetlb', 'no hugetlbfs')])]),
  cell('baseline', 1, [program('mm:uffd-unit-tests', [pass(1, 'register'), pass(2, 'populate'), skip(3, 'hugetlb', 'no hugetlbfs')], 1)]),
  cell('early-break', 0, [
    program('mm:uffd-unit-tests', [pass(1, 'register'), fail(2, 'populate', 'MADV_POPULATE_READ: EFAULT'), skip(3, 'hugetlb', 'no hugetlbfs')]),
  ]),
  cell('early-break', 1, [program('mm:uffd-unit-tests', [pass(1, 'register'), pass(2, 'populate'), skip(3, 'hugetlb', 'no hugetlbfs')], 1)]),
  cell('continue', 0, [program('mm:uffd-unit-tests', null)]),
];

const input = (rows: CellRecord[], runId = 'r1'): ReportInput => ({
  runId,
  experiment: 'kselftests',
  startedAt: '2026-01-01T00:00:00.000Z',
  state: 'complete',
  kernels: ['6.12'],
  variants: ['baseline', 'early-break', 'continue'],
  workloads: ['mm:uffd-unit-tests'],
  rows: figureRows(rows, ['__get_user_pages']),
  tests: testRows(rows),
  provenance: [],
});

describe('test rows', () => {
  it('sums each test over sizes and repetitions, per kernel variant; a run with no result is missing', () => {
    const rows = testRows(cells);
    const at = (variant: string, test: string) => rows.find((r) => r.variant === variant && r.test === test)!;
    expect(at('baseline', 'populate')).toMatchObject({ counts: { pass: 2, fail: 0 }, missing: 0 });
    expect(at('early-break', 'populate')).toMatchObject({ counts: { pass: 1, fail: 1 }, missing: 0, reasons: ['MADV_POPULATE_READ: EFAULT'] });
    expect(at('baseline', 'hugetlb')).toMatchObject({ counts: { skip: 2 }, reasons: ['no hugetlbfs'] });
    // The continue cell crashed before the program reported anything: every test is missing there.
    expect(at('continue', 'populate')).toMatchObject({ counts: { pass: 0, fail: 0 }, missing: 1 });
  });

  it('counts the tests of a program that skipped as a whole as skipped, with its reason, not missing', () => {
    const skipped = program('mm:madv_populate', [{ number: 1, name: 'mm:madv_populate', status: 'skip', reason: 'MADV_POPULATE_WRITE is not available' }], 0, {
      status: 'skipped',
      reason: 'MADV_POPULATE_WRITE is not available',
    });
    const rows = testRows([cell('baseline', 0, [program('mm:madv_populate', [pass(1, 'a'), pass(2, 'b')])]), cell('other', 0, [skipped])]);
    expect(rows.map((r) => [r.variant, r.test, r.counts.pass, r.counts.skip, r.missing, r.reasons])).toEqual([
      ['baseline', 'a', 1, 0, 0, []],
      ['baseline', 'b', 1, 0, 0, []],
      ['other', 'a', 0, 1, 0, ['MADV_POPULATE_WRITE is not available']],
      ['other', 'b', 0, 1, 0, ['MADV_POPULATE_WRITE is not available']],
    ]);
  });

  it('judges a test cell: FAIL beats missing beats pass beats skip', () => {
    const rows = testRows(cells);
    const verdict = (variant: string, test: string) => testVerdict(rows.find((r) => r.variant === variant && r.test === test));
    expect(verdict('baseline', 'populate')).toEqual({ status: 'pass', label: 'pass' });
    expect(verdict('early-break', 'populate')).toEqual({ status: 'fail', label: '1/2 FAIL' });
    expect(verdict('continue', 'register')).toEqual({ status: 'missing', label: 'missing' });
    expect(verdict('baseline', 'hugetlb')).toEqual({ status: 'skip', label: 'skip' });
    expect(testVerdict(undefined)).toEqual({ status: 'none', label: '-' });
  });
});

describe('tests in the report', () => {
  it('tables a row per program and per test that is not a pass everywhere, and finds what broke', () => {
    const report = buildTestReport(testRows(cells), ['6.12'], ['baseline', 'early-break', 'continue']);
    const [table] = report.tables;
    expect(table!.rows.map((r) => [r.workload, ...r.cells.map((c) => c.label)])).toEqual([
      ['mm:uffd-unit-tests', '2 pass, 1 skip', '1 FAIL, 1 pass, 1 skip', '3 missing'],
      ['mm:uffd-unit-tests › register', 'pass', 'pass', 'missing'],
      ['mm:uffd-unit-tests › populate', 'pass', '1/2 FAIL', 'missing'],
      ['mm:uffd-unit-tests › hugetlb', 'skip', 'skip', 'missing'],
    ]);
    expect(report.findings.map((f) => f.text)).toEqual([
      '6.12, mm:uffd-unit-tests: "register" passes on baseline and gives no result on continue: no result (the program or the VM stopped first)',
      '6.12, mm:uffd-unit-tests: "populate" passes on baseline and fails on early-break: MADV_POPULATE_READ: EFAULT',
      '6.12, mm:uffd-unit-tests: "populate" passes on baseline and gives no result on continue: no result (the program or the VM stopped first)',
    ]);
  });

  it('shows a per-run figure with its spread, never a per-page one, and prints the findings in every format', () => {
    const tables = buildTables(input(cells), { function: '__get_user_pages' });
    const row = tables.tables[0]!.rows[0]!;
    expect(row.cells.map((c) => c.text)).toEqual(['10.5/run (10-11)', '1/2 failed', 'CRASHED']);
    expect(row.cells[0]).toMatchObject({ status: 'ok', perPage: null, unit: 'run', perRun: { mean: 10.5, min: 10, max: 11, runs: 2 } });
    const text = renderers.text.render(tables);
    expect(text).toContain('6.12: test results');
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('FINDINGS (3): tests that pass on baseline and fail on another variant:');
    expect(text).toMatch(/early-break, mm:uffd-unit-tests › populate: MADV_POPULATE_READ: EFAULT/);
    expect(flat).toContain('! 6.12, mm:uffd-unit-tests: "populate" passes on baseline and fails on early-break: MADV_POPULATE_READ: EFAULT');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(72);
    const json = JSON.parse(renderers.json.render(tables)) as { tests: { findings: unknown[]; tables: { rows: unknown[] }[] } };
    expect(json.tests.findings).toHaveLength(3);
    expect(json.tests.tables[0]!.rows).toHaveLength(4);
    expect(renderers.markdown.render(tables)).toContain('**1/2 FAIL**');
    expect(renderers.html.render(tables)).toContain('FINDINGS (3): tests that pass on baseline');
  });

  it('says so when nothing broke', () => {
    const ok = cells.slice(0, 2);
    const tables = buildTables(input(ok), { function: '__get_user_pages' });
    expect(tables.tests!.findings).toEqual([]);
    expect(renderers.text.render(tables)).toContain('One variant: nothing to compare the tests with.');
  });

  it('keeps a per-run row that lost its figure from showing a number', () => {
    const row = {
      kernel: '6.12',
      variant: 'baseline',
      workload: 'x',
      function: 'f',
      status: 'ok' as const,
      per_page: null,
      fixed: null,
      residual: null,
      flags: [],
      statusCounts: { ok: 1, failed: 0, crashed: 0, hung: 0, skipped: 0 },
      unit: 'run' as const,
    };
    expect(cellFromRow(row, { kernel: '6.12', workload: 'x', variant: 'baseline', function: 'f' })).toMatchObject({ status: 'failed', perPage: null });
  });
});

describe('tests across runs', () => {
  it('lists each test whose verdict changed, a pass that broke first', () => {
    const before = input(cells.slice(0, 2), 'r1');
    const after = input([cell('baseline', 0, [program('mm:uffd-unit-tests', [pass(1, 'register'), fail(2, 'populate', 'EFAULT'), pass(3, 'hugetlb')])])], 'r2');
    const changes = compareTests(before, after);
    expect(changes.map((c) => [c.test, c.before, c.after, c.newFailure])).toEqual([
      ['populate', 'pass', 'fail', true],
      ['hugetlb', 'skip', 'pass', false],
    ]);
    expect(changes[0]!.text).toBe('6.12 baseline, mm:uffd-unit-tests: "populate" pass → FAIL (new failure): EFAULT');
    const comparison = compareRuns(before, after, { function: '__get_user_pages' });
    expect(comparison.testChanges).toHaveLength(2);
    expect(renderers.text.render(comparison)).toContain('! 6.12 baseline, mm:uffd-unit-tests: "populate" pass → FAIL');
  });
});
