/**
 * The table model every renderer draws from. Pure: a run's figure rows in, per-kernel tables of
 * workloads × variants out, each cell holding what it shows and everything behind it, with the
 * footnotes (flags, why a cell is not a number) gathered per table.
 *
 * The one rule that matters most: a cell that is not ok never shows a number. A fit computed from
 * the samples that did finish is not the figure of a cell where some did not.
 */
import { statuses, type ExplainSummary, type FigureRow, type ReportInput, type Status, type TestStatus, type TestRow } from '../records/index.js';
import { whatChanged, type WhatChanged } from './buckets.js';

/** A figure row's status, or `missing` when the run has no row for the cell at all. */
export type CellStatus = Status | 'missing';

export interface CellRef {
  workload: string;
  variant: string;
}

export interface Cell {
  kernel: string;
  workload: string;
  variant: string;
  function: string;
  status: CellStatus;
  /** What the table shows, without the marker: "2", "1.5", "CRASHED", "1/3 hung", "missing". */
  label: string;
  /** "*" on an ok figure that carries flags; empty otherwise. */
  marker: '' | '*';
  /** label + marker. */
  text: string;
  /** The per-page figure; null whenever status is not ok. */
  perPage: number | null;
  fixed: number | null;
  residual: number | null;
  reason: string | null;
  flags: string[];
  /** Sample statuses behind the cell; null when the cell is missing. */
  statusCounts: Record<Status, number> | null;
  /** ok samples of all samples; null when the cell is missing. */
  samples: { ok: number; total: number } | null;
  /** kexp explain: the figure split into buckets; null when the run did not explain it or the cell is not ok. */
  explain: ExplainSummary | null;
  /** A program's figure: per unit of its own {n} ("n") or per run ("run"); absent: per page. */
  unit?: 'n' | 'run';
  /** unit "run", ok: the mean calls per run and their spread. */
  perRun?: { mean: number; min: number; max: number; runs: number };
}

/** A footnote: one text, and every cell of the table it is about. */
export interface Note {
  /** flag: why an ok figure is marked; status: why a cell is not a number. */
  kind: 'flag' | 'status';
  /** The marker that points at it from the cells ("*" for flags; none for status notes, whose cell label is the pointer). */
  marker: '' | '*';
  text: string;
  cells: CellRef[];
}

export interface TableRow<C> {
  workload: string;
  cells: C[];
}

/** One kernel: workloads as rows, variants as columns, cells[i] under variants[i]. */
export interface Table<C> {
  kernel: string;
  title: string;
  variants: string[];
  rows: TableRow<C>[];
  notes: Note[];
}

export interface RunInfo {
  runId: string;
  experiment: string;
  startedAt: string;
  state: 'complete' | 'incomplete';
}

/** A kernel's table of a run's report, with what its buckets say changed from the first variant. */
export interface ReportTable extends Table<Cell> {
  /** null when no cell of the table has buckets (the run did not explain the function). */
  whatChanged: WhatChanged | null;
}

export interface ReportTables {
  kind: 'report';
  /** The function (or tracepoint) whose per-page figures the cells show. */
  function: string;
  run: RunInfo;
  tables: ReportTable[];
  /** Every function and tracepoint the run has figures for, so a caller can say what else there is. */
  functions: string[];
  provenance: string[];
  /** Test programs' results beside the figures (only when the run ran any). */
  tests?: TestReport;
}

/** A test's (or a whole program's) verdict in one cell: over its sizes and repetitions. */
export type TestVerdict = 'pass' | 'fail' | 'skip' | 'missing' | 'none';

export interface TestCell {
  kernel: string;
  /** The program with its arguments ("mm:madv_populate"). */
  workload: string;
  /** The test; null on a program's summary row. */
  test: string | null;
  variant: string;
  /** fail: any run failed it; missing: some run gave no result (crash, hang); skip: skipped in every run; none: not run in this variant. */
  status: TestVerdict;
  /** What the table shows: "pass", "FAIL", "1/3 FAIL", "skip", "missing", "-"; a summary row: "15 pass, 1 FAIL". */
  label: string;
  /** Results over the runs (a summary row: the verdicts of its tests); null when not run. */
  counts: Record<TestStatus, number> | null;
  missing: number;
  reasons: string[];
}

/** One kernel: a row per program (its tests summed up), then a row per test that failed or gave no result somewhere, or whose variants disagree. */
export type TestTable = Table<TestCell>;

/** A test that passes on the first variant and fails (or gives no result) on another. */
export interface TestFinding {
  kernel: string;
  workload: string;
  test: string;
  baseline: string;
  variant: string;
  text: string;
}

export interface TestReport {
  tables: TestTable[];
  findings: TestFinding[];
}

export interface BuildOptions {
  function: string;
}

export function buildTables(input: ReportInput, options: BuildOptions): ReportTables {
  const index = indexRows(input.rows, options.function);
  const order = displayOrder(input, options.function);
  const tables = order.kernels.map((kernel): ReportTable => {
    const rows = order.workloads.map((workload) => ({
      workload,
      cells: order.variants.map((variant) => cellAt(input, index, { kernel, workload, variant, function: options.function })),
    }));
    return {
      kernel,
      title: tableTitle(kernel, options.function),
      variants: order.variants,
      rows,
      notes: notesFor(rows),
      whatChanged: whatChanged(order.variants, rows),
    };
  });
  const tests = input.tests && input.tests.length > 0 ? buildTestReport(input.tests, order.kernels, order.variants) : undefined;
  return {
    kind: 'report',
    function: options.function,
    run: runInfo(input),
    tables,
    functions: [...new Set(input.rows.map((r) => r.function))],
    provenance: [...input.provenance],
    ...(tests ? { tests } : {}),
  };
}

const testResultStatuses: readonly TestStatus[] = ['pass', 'fail', 'skip', 'xfail', 'error'];

/** A test's verdict over its runs in one cell, and how the table shows it. Pure. */
export function testVerdict(row: TestRow | undefined): { status: TestVerdict; label: string } {
  if (!row) return { status: 'none', label: '-' };
  const c = row.counts;
  const runs = testResultStatuses.reduce((n, t) => n + c[t], 0) + row.missing;
  const failed = c.fail + c.error;
  if (failed > 0) return { status: 'fail', label: failed === runs ? 'FAIL' : `${failed}/${runs} FAIL` };
  if (row.missing > 0) return { status: 'missing', label: row.missing === runs ? 'missing' : `${row.missing}/${runs} missing` };
  if (c.pass + c.xfail > 0) return { status: 'pass', label: c.skip > 0 ? `pass (${c.skip}/${runs} skip)` : 'pass' };
  return { status: 'skip', label: 'skip' };
}

/**
 * The tests beside the figures, kernel by kernel: each program's tests summed up in one row, and a
 * row for every test that is not a pass in every variant; findings where a test passes on the
 * first variant and fails (or gives no result) on another. Pure.
 */
export function buildTestReport(rows: readonly TestRow[], kernelOrder: readonly string[], variantOrder: readonly string[]): TestReport {
  const kernels = [...new Set([...kernelOrder.filter((k) => rows.some((r) => r.kernel === k)), ...rows.map((r) => r.kernel)])];
  const variants = [...new Set([...variantOrder.filter((v) => rows.some((r) => r.variant === v)), ...rows.map((r) => r.variant)])];
  const findings: TestFinding[] = [];
  const tables = kernels.map((kernel): TestTable => {
    const mine = rows.filter((r) => r.kernel === kernel);
    const programs = [...new Set(mine.map((r) => r.workload))];
    const tableRows: TableRow<TestCell>[] = [];
    const notes = new NoteList('status', '');
    for (const workload of programs) {
      const tests = [...new Set(mine.filter((r) => r.workload === workload).map((r) => r.test))];
      const at = (variant: string, test: string): TestRow | undefined => mine.find((r) => r.variant === variant && r.workload === workload && r.test === test);
      const summary = variants.map(
        (variant): TestCell =>
          summaryCell(
            kernel,
            workload,
            variant,
            tests.map((t) => at(variant, t)),
          ),
      );
      tableRows.push({ workload, cells: summary });
      const only = tests.length === 1 && tests[0] === workload.split(' ')[0];
      for (const test of tests) {
        const cells = variants.map((variant): TestCell => {
          const row = at(variant, test);
          const verdict = testVerdict(row);
          return {
            kernel,
            workload,
            test,
            variant,
            ...verdict,
            counts: row ? { ...row.counts } : null,
            missing: row?.missing ?? 0,
            reasons: row ? [...row.reasons] : [],
          };
        });
        const label = `${workload} › ${test}`;
        // A test gets its own row where it failed or gave no result somewhere, or where variants disagree;
        // a test skipped everywhere is counted in its program's row.
        const verdicts = new Set(cells.filter((c) => c.status !== 'none').map((c) => c.status));
        const shown = only || verdicts.has('fail') || verdicts.has('missing') || verdicts.size > 1;
        if (!only && shown) tableRows.push({ workload: label, cells });
        for (const c of cells) {
          if (shown && c.reasons.length > 0 && c.status !== 'pass') notes.add(c.reasons.join('; '), { workload: only ? workload : label, variant: c.variant });
        }
        const base = cells[0]!;
        if (base.status !== 'pass') continue;
        for (const c of cells.slice(1)) {
          if (c.status !== 'fail' && c.status !== 'missing') continue;
          const why = c.reasons.length > 0 ? `: ${c.reasons.join('; ')}` : c.status === 'missing' ? ': no result (the program or the VM stopped first)' : '';
          findings.push({
            kernel,
            workload,
            test,
            baseline: base.variant,
            variant: c.variant,
            text: `${kernel}, ${workload}: "${test}" passes on ${base.variant} and ${c.status === 'fail' ? 'fails' : 'gives no result'} on ${c.variant}${why}`,
          });
        }
      }
    }
    return { kernel, title: `${kernel}: test results (kselftests and programs, every size and repetition)`, variants, rows: tableRows, notes: notes.notes() };
  });
  return { tables, findings };
}

function summaryCell(kernel: string, workload: string, variant: string, rows: (TestRow | undefined)[]): TestCell {
  const present = rows.filter((r): r is TestRow => r !== undefined);
  if (present.length === 0) return { kernel, workload, test: null, variant, status: 'none', label: '-', counts: null, missing: 0, reasons: [] };
  const verdicts = present.map((r) => testVerdict(r).status);
  const n = (v: TestVerdict): number => verdicts.filter((x) => x === v).length;
  const counts = { pass: n('pass'), fail: n('fail'), skip: n('skip'), xfail: 0, error: 0 };
  const status: TestVerdict = counts.fail > 0 ? 'fail' : n('missing') > 0 ? 'missing' : counts.pass > 0 ? 'pass' : 'skip';
  const parts = [
    counts.fail > 0 ? `${counts.fail} FAIL` : '',
    n('missing') > 0 ? `${n('missing')} missing` : '',
    counts.pass > 0 ? `${counts.pass} pass` : '',
    counts.skip > 0 ? `${counts.skip} skip` : '',
  ].filter(Boolean);
  return { kernel, workload, test: null, variant, status, label: parts.join(', '), counts, missing: n('missing'), reasons: [] };
}

export function runInfo(input: ReportInput): RunInfo {
  return { runId: input.runId, experiment: input.experiment, startedAt: input.startedAt, state: input.state };
}

export function tableTitle(kernel: string, fn: string): string {
  // A tracepoint (group/name) is an event, not a call.
  return `${kernel}: ${fn} ${fn.includes('/') ? 'events' : 'calls'} per faulted page`;
}

/** Figures to at most three decimals, without trailing zeros: 2, 1.5, 0.333. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const rounded = Math.round(x * 1000) / 1000;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

export type RowIndex = Map<string, FigureRow[]>;

function key(kernel: string, variant: string, workload: string): string {
  return JSON.stringify([kernel, variant, workload]);
}

export function indexRows(rows: readonly FigureRow[], fn: string): RowIndex {
  const index: RowIndex = new Map();
  for (const row of rows) {
    if (row.function !== fn) continue;
    const k = key(row.kernel, row.variant, row.workload);
    index.set(k, [...(index.get(k) ?? []), row]);
  }
  return index;
}

/**
 * The input's own order, then anything the rows hold that the lists do not (in the order met), so
 * that no figure is ever dropped from a table because a list was incomplete.
 */
export function displayOrder(input: ReportInput, fn: string): { kernels: string[]; variants: string[]; workloads: string[] } {
  const rows = input.rows.filter((r) => r.function === fn);
  const extend = (listed: string[], found: string[]): string[] => [...new Set([...listed, ...found])];
  return {
    kernels: extend(
      input.kernels,
      rows.map((r) => r.kernel),
    ),
    variants: extend(
      input.variants,
      rows.map((r) => r.variant),
    ),
    workloads: extend(
      input.workloads,
      rows.map((r) => r.workload),
    ),
  };
}

export interface CellAddress {
  kernel: string;
  workload: string;
  variant: string;
  function: string;
}

/** The cell at one address of one run: its row, or what a missing row means in that run. */
export function cellAt(input: ReportInput, index: RowIndex, at: CellAddress): Cell {
  const found = index.get(key(at.kernel, at.variant, at.workload)) ?? [];
  const [row, ...others] = found;
  if (!row) return missingCell(at, missingReason(input, at));
  const cell = cellFromRow(row, at);
  if (others.length === 0) return cell;
  const flag = `${found.length} figure rows for this cell; the first is shown`;
  return cell.status === 'ok' ? { ...cell, flags: [...cell.flags, flag], marker: '*', text: `${cell.label}*` } : { ...cell, flags: [...cell.flags, flag] };
}

function missingReason(input: ReportInput, at: CellAddress): string {
  const absent = [
    input.kernels.includes(at.kernel) ? null : `kernel ${at.kernel}`,
    input.variants.includes(at.variant) ? null : `variant ${at.variant}`,
    input.workloads.includes(at.workload) ? null : `workload ${at.workload}`,
  ].filter((x): x is string => x !== null);
  if (absent.length > 0) return `not part of run ${input.runId} (${absent.join(', ')})`;
  if (input.state === 'incomplete') return 'not measured (the run was interrupted)';
  return 'no figure recorded';
}

export function missingCell(at: CellAddress, reason: string): Cell {
  return {
    ...at,
    status: 'missing',
    label: 'missing',
    marker: '',
    text: 'missing',
    perPage: null,
    fixed: null,
    residual: null,
    reason,
    flags: [],
    statusCounts: null,
    samples: null,
    explain: null,
  };
}

/** Worst first: the status a cell takes when its row says ok but some samples were not. */
const severity: Status[] = ['crashed', 'hung', 'failed', 'skipped'];

const statusLabels: Record<Exclude<CellStatus, 'ok'>, string> = {
  failed: 'FAILED',
  crashed: 'CRASHED',
  hung: 'HUNG',
  skipped: 'skipped',
  missing: 'missing',
};

export function statusLabel(status: Exclude<CellStatus, 'ok'>): string {
  return statusLabels[status];
}

export function cellFromRow(row: FigureRow, at: CellAddress): Cell {
  const counts = Object.fromEntries(statuses.map((s) => [s, row.statusCounts[s] ?? 0])) as Record<Status, number>;
  const total = statuses.reduce((sum, s) => sum + counts[s], 0);
  const present = statuses.filter((s) => counts[s] > 0);
  const notOk = severity.filter((s) => counts[s] > 0);
  let status: Status = row.status;
  let reason = row.reason ?? null;
  if (status === 'ok' && notOk.length > 0) {
    // Defensive: a row that calls itself ok over samples that were not is not ok.
    status = notOk[0]!;
    reason ??= `${counts[status]} of ${total} samples ${status}`;
  }
  let perRun = false;
  if (status === 'ok' && row.unit === 'run' && row.per_run && Number.isFinite(row.per_run.mean)) {
    // A program without a size: its figure is per run, and per_page stays null.
    perRun = true;
  } else if (status === 'ok' && (row.per_page === null || !Number.isFinite(row.per_page))) {
    status = 'failed';
    reason = `the row is ok but has no per-page figure${row.reason ? `: ${row.reason}` : ''}`;
  }
  const base = {
    ...at,
    reason,
    flags: [...row.flags],
    statusCounts: counts,
    samples: { ok: counts.ok, total },
  };
  if (status === 'ok' && !perRun) {
    const perPage = row.per_page!;
    const label = `${formatNumber(perPage)}${row.unit === 'n' ? '/n' : ''}`;
    const marker = row.flags.length > 0 ? '*' : '';
    return {
      ...base,
      status,
      label,
      marker,
      text: label + marker,
      perPage,
      fixed: row.fixed,
      residual: row.residual,
      explain: row.explain ?? null,
      ...(row.unit ? { unit: row.unit } : {}),
    };
  }
  if (status === 'ok') {
    const r = row.per_run!;
    const label = `${formatNumber(r.mean)}/run${r.min !== r.max ? ` (${formatNumber(r.min)}-${formatNumber(r.max)})` : ''}`;
    const marker = row.flags.length > 0 ? '*' : '';
    return {
      ...base,
      status: 'ok',
      label,
      marker,
      text: label + marker,
      perPage: null,
      fixed: null,
      residual: null,
      explain: null,
      unit: 'run',
      perRun: { ...r },
    };
  }
  const label = present.length > 1 ? mixedLabel(status, counts, total) : statusLabel(status);
  // Buckets fitted from the samples that did finish are no more the cell's than its figure is.
  return { ...base, status, label, marker: '', text: label, perPage: null, fixed: null, residual: null, explain: null };
}

/** "2/3 crashed"; with more than one kind of failure, the row's own first: "1/3 crashed, 1/3 hung". */
function mixedLabel(status: Status, counts: Record<Status, number>, total: number): string {
  const kinds = [status, ...severity.filter((s) => s !== status && counts[s] > 0)].filter((s) => s !== 'ok' && counts[s] > 0);
  if (kinds.length === 0) return statusLabel(status as Exclude<Status, 'ok'>);
  return kinds.map((s) => `${counts[s]}/${total} ${s}`).join(', ');
}

/** The footnote text for a cell that is not a number: its label, then why. */
export function statusNoteText(cell: Cell): string | null {
  if (cell.status === 'ok') return null;
  if (!cell.reason) return cell.label === cell.status ? null : cell.label;
  // computeFigures already says "1 of 3 samples hung: ..."; the label says it shorter. And
  // "not run: <console title>" (samples a stopped VM never reported) reads as the title alone.
  let reason = /^\d+\/\d+ /.test(cell.label) ? cell.reason.replace(/^\d+ of \d+ samples \w+:\s*/, '') : cell.reason;
  reason = reason.replace(/^not run:\s*/, '');
  return `${cell.label}: ${reason}`;
}

export function notesFor(rows: TableRow<Cell>[]): Note[] {
  const flags = new NoteList('flag', '*');
  const reasons = new NoteList('status', '');
  // Column by column: a variant's notes together, in the order of the columns.
  for (const cell of columnMajor(rows)) {
    const at = { workload: cell.workload, variant: cell.variant };
    if (cell.marker === '*') for (const flag of cell.flags) flags.add(flag, at);
    const text = statusNoteText(cell);
    if (text) reasons.add(text, at);
  }
  return [...flags.notes(), ...reasons.notes()];
}

/** The cells of a table variant by variant, each variant's workloads in row order. */
export function columnMajor<C>(rows: TableRow<C>[]): C[] {
  const columns = Math.max(0, ...rows.map((r) => r.cells.length));
  const out: C[] = [];
  for (let j = 0; j < columns; j++) for (const row of rows) if (j < row.cells.length) out.push(row.cells[j]!);
  return out;
}

/** Notes in the order first met, one per distinct text. */
export class NoteList {
  private readonly byText = new Map<string, Note>();
  constructor(
    private readonly kind: Note['kind'],
    private readonly marker: Note['marker'],
  ) {}

  add(text: string, at: CellRef): void {
    const note = this.byText.get(text);
    if (note) note.cells.push(at);
    else this.byText.set(text, { kind: this.kind, marker: this.marker, text, cells: [at] });
  }

  notes(): Note[] {
    return [...this.byText.values()];
  }
}

/**
 * Where a note applies, in words: "early-break, uffd-remote", "continue, all workloads",
 * "continue, uffd-remote and async-pf; early-break, async-pf".
 */
export function describeCells(cells: readonly CellRef[], table: { variants: string[]; rows: { workload: string }[] }): string {
  const byVariant = new Map<string, string[]>();
  for (const v of table.variants) byVariant.set(v, []);
  for (const c of cells) byVariant.set(c.variant, [...(byVariant.get(c.variant) ?? []), c.workload]);
  const allWorkloads = table.rows.length;
  const distinct = new Set(cells.map((c) => JSON.stringify([c.workload, c.variant]))).size;
  if (distinct === allWorkloads * table.variants.length && distinct > 1) return 'every cell';
  const parts: string[] = [];
  for (const [variant, workloads] of byVariant) {
    if (workloads.length === 0) continue;
    const unique = [...new Set(workloads)];
    if (unique.length === allWorkloads && allWorkloads > 1) parts.push(`${variant}, all workloads`);
    else parts.push(`${variant}, ${joinAnd(unique)}`);
  }
  // Every variant for one workload reads better the other way round.
  const workloadsUsed = [...new Set(cells.map((c) => c.workload))];
  const variantsUsed = [...new Set(cells.map((c) => c.variant))];
  if (workloadsUsed.length === 1 && variantsUsed.length === table.variants.length && variantsUsed.length > 1) return `all variants, ${workloadsUsed[0]}`;
  return parts.join('; ');
}

function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
