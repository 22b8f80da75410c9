import { describe, expect, it } from 'vitest';
import { buildTables, describeCells, formatNumber, type Cell, type ReportTables } from '../../../src/report/model.js';
import type { ReportInput } from '../../../src/records/index.js';
import { counts, GUP, interruptedRun, notOk, ok } from './fixtures.js';

function cell(report: ReportTables, kernel: string, workload: string, variant: string): Cell {
  const table = report.tables.find((t) => t.kernel === kernel);
  const row = table?.rows.find((r) => r.workload === workload);
  const found = row?.cells[table!.variants.indexOf(variant)];
  if (!found) throw new Error(`no cell ${kernel} ${workload} ${variant}`);
  return found;
}

const report = buildTables(interruptedRun, { function: GUP });

describe('buildTables', () => {
  it('has one table per kernel, workloads as rows and variants as columns, in the input order', () => {
    expect(report.tables.map((t) => t.kernel)).toEqual(['6.1', '6.12']);
    for (const table of report.tables) {
      expect(table.variants).toEqual(['baseline', 'early-break', 'continue']);
      expect(table.rows.map((r) => r.workload)).toEqual(['uffd-populate', 'uffd-populate --write', 'uffd-remote', 'async-pf']);
      for (const row of table.rows) expect(row.cells.map((c) => c.variant)).toEqual(table.variants);
    }
    expect(report.tables[1]!.title).toBe('6.12: __get_user_pages calls per faulted page');
  });

  it('shows the per-page figure of the chosen function (6.12 uffd-populate: 2, 1, 1)', () => {
    const row = report.tables[1]!.rows[0]!;
    expect(row.cells.map((c) => c.text)).toEqual(['2', '1', '1']);
    expect(row.cells[0]).toMatchObject({ status: 'ok', perPage: 2, fixed: 3, residual: 0, flags: [], samples: { ok: 3, total: 3 } });
    const other = buildTables(interruptedRun, { function: 'handle_userfault' });
    expect(cell(other, '6.12', 'uffd-populate', 'baseline').text).toBe('1');
    expect(cell(other, '6.12', 'uffd-populate', 'early-break').status).toBe('missing');
    expect(report.functions).toEqual(['__get_user_pages', 'handle_userfault']);
  });

  it('marks a flagged figure and keeps its flags as notes of its table', () => {
    const flagged = cell(report, '6.1', 'uffd-remote', 'early-break');
    expect(flagged).toMatchObject({ status: 'ok', label: '1.5', marker: '*', text: '1.5*', perPage: 1.5 });
    const notes = report.tables[0]!.notes.filter((n) => n.kind === 'flag');
    expect(notes.map((n) => n.text)).toEqual(['non-integral per-page figure 1.5', 'residual 0.471: samples do not lie on one line']);
    expect(notes[0]!.cells).toEqual([{ workload: 'uffd-remote', variant: 'early-break' }]);
  });

  it('shows a status, never a number, for a cell that is not ok', () => {
    expect(cell(report, '6.12', 'uffd-remote', 'continue')).toMatchObject({
      status: 'crashed',
      text: 'CRASHED',
      perPage: null,
      fixed: null,
      residual: null,
      reason: 'not run: kernel BUG at mm/gup.c:1828!',
    });
    const labels = { failed: 'FAILED', crashed: 'CRASHED', hung: 'HUNG', skipped: 'skipped' } as const;
    for (const [status, label] of Object.entries(labels)) {
      // A row that is not ok but carries numbers anyway (it should not): they are not shown.
      const row = { ...notOk('6.12', 'baseline', 'async-pf', status as keyof typeof labels, 'why'), per_page: 3, fixed: 1, residual: 0 };
      const c = buildTables({ ...interruptedRun, rows: [row] }, { function: GUP }).tables[1]!.rows[3]!.cells[0]!;
      expect(c).toMatchObject({ status, text: label, perPage: null, fixed: null, residual: null });
    }
  });

  it('shows how many samples failed when they disagree in status: "1/3 hung"', () => {
    expect(cell(report, '6.1', 'async-pf', 'early-break')).toMatchObject({ status: 'hung', text: '1/3 hung', perPage: null, samples: { ok: 2, total: 3 } });
    const two = notOk('6.12', 'baseline', 'async-pf', 'crashed', 'x', counts({ ok: 1, crashed: 2 }));
    expect(buildTables({ ...interruptedRun, rows: [two] }, { function: GUP }).tables[1]!.rows[3]!.cells[0]!.text).toBe('2/3 crashed');
    const three = notOk('6.12', 'baseline', 'async-pf', 'hung', 'x', counts({ ok: 1, crashed: 1, hung: 1 }));
    expect(buildTables({ ...interruptedRun, rows: [three] }, { function: GUP }).tables[1]!.rows[3]!.cells[0]!.text).toBe('1/3 hung, 1/3 crashed');
  });

  it('does not believe a row that says ok over samples that were not', () => {
    const row = ok('6.12', 'baseline', 'async-pf', 3, 1, { statusCounts: counts({ ok: 2, hung: 1 }) });
    const c = buildTables({ ...interruptedRun, rows: [row] }, { function: GUP }).tables[1]!.rows[3]!.cells[0]!;
    expect(c).toMatchObject({ status: 'hung', text: '1/3 hung', perPage: null, reason: '1 of 3 samples hung' });
    const noFigure = buildTables({ ...interruptedRun, rows: [{ ...row, statusCounts: counts({ ok: 3 }), per_page: null }] }, { function: GUP });
    expect(noFigure.tables[1]!.rows[3]!.cells[0]!).toMatchObject({ status: 'failed', text: 'FAILED', perPage: null });
  });

  it('shows "missing" where the run has no row, and says why', () => {
    expect(cell(report, '6.1', 'uffd-populate', 'continue')).toMatchObject({
      status: 'missing',
      text: 'missing',
      perPage: null,
      statusCounts: null,
      samples: null,
      reason: 'not measured (the run was interrupted)',
    });
    const complete = buildTables({ ...interruptedRun, state: 'complete' }, { function: GUP });
    expect(cell(complete, '6.1', 'uffd-populate', 'continue').reason).toBe('no figure recorded');
    const note = report.tables[0]!.notes.find((n) => n.text.startsWith('missing'));
    expect(note?.cells).toHaveLength(4);
    expect(describeCells(note!.cells, report.tables[0]!)).toBe('continue, all workloads');
  });

  it('drops no figure: kernels, variants and workloads the lists lack are added after them', () => {
    const input: ReportInput = { ...interruptedRun, rows: [...interruptedRun.rows, ok('6.6', 'revert', 'uffd-zeropage', 1, 0)] };
    const tables = buildTables(input, { function: GUP });
    expect(tables.tables.map((t) => t.kernel)).toEqual(['6.1', '6.12', '6.6']);
    expect(tables.tables[2]!.variants).toEqual(['baseline', 'early-break', 'continue', 'revert']);
    expect(cell(tables, '6.6', 'uffd-zeropage', 'revert').text).toBe('1');
    expect(cell(tables, '6.6', 'uffd-populate', 'baseline').reason).toBe('not part of run default-20250612-091500 (kernel 6.6)');
  });

  it('flags a cell with two rows instead of picking one silently', () => {
    const input = { ...interruptedRun, rows: [ok('6.12', 'baseline', 'async-pf', 3, 1), ok('6.12', 'baseline', 'async-pf', 4, 1)] };
    const c = buildTables(input, { function: GUP }).tables[1]!.rows[3]!.cells[0]!;
    expect(c).toMatchObject({ text: '3*', flags: ['2 figure rows for this cell; the first is shown'] });
  });

  it('groups notes with the same text and orders them variant by variant', () => {
    const notes = report.tables[1]!.notes;
    expect(notes.map((n) => [n.kind, n.text])).toEqual([
      ['flag', 'collectors disagree at 256 pages (rep 0): ftrace 517, kprobe 516'],
      ['status', 'CRASHED: kernel BUG at mm/gup.c:1828!'],
    ]);
    expect(describeCells(notes[1]!.cells, report.tables[1]!)).toBe('continue, uffd-remote and async-pf');
    expect(report.tables[0]!.notes.map((n) => n.text)).toEqual([
      'non-integral per-page figure 1.5',
      'residual 0.471: samples do not lie on one line',
      '1/3 hung: no progress on the result channel for 60 s',
      'missing: not measured (the run was interrupted)',
    ]);
  });
});

describe('describeCells', () => {
  const table = { variants: ['baseline', 'early-break', 'continue'], rows: [{ workload: 'a' }, { workload: 'b' }] };
  it('names cells, whole columns, whole rows and the whole table', () => {
    expect(describeCells([{ workload: 'a', variant: 'continue' }], table)).toBe('continue, a');
    expect(
      describeCells(
        [
          { workload: 'a', variant: 'continue' },
          { workload: 'b', variant: 'continue' },
        ],
        table,
      ),
    ).toBe('continue, all workloads');
    expect(
      describeCells(
        table.variants.map((variant) => ({ workload: 'b', variant })),
        table,
      ),
    ).toBe('all variants, b');
    expect(
      describeCells(
        [
          { workload: 'a', variant: 'baseline' },
          { workload: 'b', variant: 'continue' },
        ],
        table,
      ),
    ).toBe('baseline, a; continue, b');
    expect(
      describeCells(
        table.variants.flatMap((variant) => table.rows.map((r) => ({ workload: r.workload, variant }))),
        table,
      ),
    ).toBe('every cell');
  });
});

describe('formatNumber', () => {
  it('prints figures without trailing zeros, to at most three decimals', () => {
    expect([2, 1.5, 1.25, 0.3333333, -0, 3.0000000001, 12].map(formatNumber)).toEqual(['2', '1.5', '1.25', '0.333', '0', '3', '12']);
  });
});
