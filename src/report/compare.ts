/**
 * Two runs side by side, cell by cell (kernel × workload × variant): what changed and what newly
 * fails. Pure. The result has the report's table shape, so every renderer can draw it.
 */
import {
  cellAt,
  columnMajor,
  displayOrder,
  indexRows,
  NoteList,
  runInfo,
  statusNoteText,
  tableTitle,
  testVerdict,
  type TestVerdict,
  type Cell,
  type Note,
  type RunInfo,
  type Table,
  type TableRow,
} from './model.js';
import { bucketChanges } from './buckets.js';
import type { BucketChange } from '../explain/buckets.js';
import { statuses, type ReportInput } from '../records/index.js';

/** Per-page figures closer than this are the same figure. */
export const FIGURE_TOLERANCE = 1e-9;

export interface ComparedCell {
  kernel: string;
  workload: string;
  variant: string;
  before: Cell;
  after: Cell;
  /** "= 2" when unchanged, else "2 → 1", "2 → CRASHED", "1/3 hung → 2". */
  text: string;
  /** figureChanged or statusChanged. */
  changed: boolean;
  /** Both ok and per-page figures more than FIGURE_TOLERANCE apart. */
  figureChanged: boolean;
  /** Another status, or the same status over other sample counts (1/3 hung → 2/3 hung). */
  statusChanged: boolean;
  /** ok before, not ok after (failed, crashed, hung, skipped or missing). */
  newFailure: boolean;
  /** kexp explain: the buckets whose per-page figure changed; null unless both runs have buckets for the cell. */
  bucketChanges: BucketChange[] | null;
}

/** A changed cell, as listed under the tables. */
export type Change = Omit<ComparedCell, 'changed'>;

export interface ComparedRun extends RunInfo {
  provenance: string[];
}

export interface Comparison {
  kind: 'comparison';
  function: string;
  before: ComparedRun;
  after: ComparedRun;
  tables: Table<ComparedCell>[];
  /** Every changed cell: kernel by kernel, variant by variant, workloads in row order. */
  changes: Change[];
  counts: { cells: number; changed: number; newFailures: number };
  /** Tests of test programs whose verdict changed between the runs (only when either run had tests). */
  testChanges?: TestChange[];
}

/** A test whose verdict differs between two runs. */
export interface TestChange {
  kernel: string;
  variant: string;
  workload: string;
  test: string;
  before: TestVerdict;
  after: TestVerdict;
  /** pass before, fail or no result after. */
  newFailure: boolean;
  text: string;
}

/** Test by test, the verdicts of two runs (pure): what changed, a pass that broke first. */
export function compareTests(a: ReportInput, b: ReportInput): TestChange[] {
  const key = (r: { kernel: string; variant: string; workload: string; test: string }): string => JSON.stringify([r.kernel, r.variant, r.workload, r.test]);
  const before = new Map((a.tests ?? []).map((r) => [key(r), r]));
  const after = new Map((b.tests ?? []).map((r) => [key(r), r]));
  const changes: TestChange[] = [];
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const x = before.get(k);
    const y = after.get(k);
    const vx = testVerdict(x);
    const vy = testVerdict(y);
    if (vx.label === vy.label) continue;
    const at = (x ?? y)!;
    const newFailure = vx.status === 'pass' && (vy.status === 'fail' || vy.status === 'missing');
    changes.push({
      kernel: at.kernel,
      variant: at.variant,
      workload: at.workload,
      test: at.test,
      before: vx.status,
      after: vy.status,
      newFailure,
      text: `${at.kernel} ${at.variant}, ${at.workload}: "${at.test}" ${vx.label === '-' ? 'not run' : vx.label} → ${vy.label === '-' ? 'not run' : vy.label}${newFailure ? ' (new failure)' : ''}${y && y.reasons.length > 0 && vy.status !== 'pass' ? `: ${y.reasons.join('; ')}` : ''}`,
    });
  }
  return changes.sort((p, q) => Number(q.newFailure) - Number(p.newFailure));
}

export function compareRuns(a: ReportInput, b: ReportInput, options: { function: string }): Comparison {
  const fn = options.function;
  const orderA = displayOrder(a, fn);
  const orderB = displayOrder(b, fn);
  const union = (x: string[], y: string[]): string[] => [...new Set([...x, ...y])];
  const kernels = union(orderA.kernels, orderB.kernels);
  const variants = union(orderA.variants, orderB.variants);
  const workloads = union(orderA.workloads, orderB.workloads);
  const indexA = indexRows(a.rows, fn);
  const indexB = indexRows(b.rows, fn);

  const tables = kernels.map((kernel): Table<ComparedCell> => {
    const rows = workloads.map(
      (workload): TableRow<ComparedCell> => ({
        workload,
        cells: variants.map((variant) => {
          const at = { kernel, workload, variant, function: fn };
          return compareCells(cellAt(a, indexA, at), cellAt(b, indexB, at));
        }),
      }),
    );
    return { kernel, title: `${tableTitle(kernel, fn)}, before → after`, variants, rows, notes: comparisonNotes(rows) };
  });

  // Changes kernel by kernel, variant by variant: one variant's changes read together.
  const cells = tables.flatMap((t) => columnMajor(t.rows));
  const changes = cells.filter((c) => c.changed).map(({ changed: _changed, ...change }): Change => change);
  return {
    kind: 'comparison',
    function: fn,
    before: { ...runInfo(a), provenance: [...a.provenance] },
    after: { ...runInfo(b), provenance: [...b.provenance] },
    tables,
    changes,
    counts: { cells: cells.length, changed: changes.length, newFailures: changes.filter((c) => c.newFailure).length },
    ...(a.tests || b.tests ? { testChanges: compareTests(a, b) } : {}),
  };
}

export function compareCells(before: Cell, after: Cell): ComparedCell {
  const statusChanged = before.status !== after.status || !sameCounts(before, after);
  const perRunChanged = before.perRun !== undefined && after.perRun !== undefined && Math.abs(before.perRun.mean - after.perRun.mean) > FIGURE_TOLERANCE;
  const figureChanged = perRunChanged || (before.perPage !== null && after.perPage !== null && Math.abs(before.perPage - after.perPage) > FIGURE_TOLERANCE);
  const changed = statusChanged || figureChanged;
  return {
    kernel: after.kernel,
    workload: after.workload,
    variant: after.variant,
    before,
    after,
    text: changed ? `${before.label} → ${after.label}` : `= ${after.label}`,
    changed,
    figureChanged,
    statusChanged,
    newFailure: before.status === 'ok' && after.status !== 'ok',
    bucketChanges: bucketChanges(before, after),
  };
}

function sameCounts(before: Cell, after: Cell): boolean {
  if (before.statusCounts === null || after.statusCounts === null) return before.statusCounts === after.statusCounts;
  return statuses.every((s) => before.statusCounts![s] === after.statusCounts![s]);
}

/** Why a changed cell is not a number now. Unchanged cells were explained in the runs' own reports. */
function comparisonNotes(rows: TableRow<ComparedCell>[]): Note[] {
  const notes = new NoteList('status', '');
  for (const cell of columnMajor(rows)) {
    if (!cell.changed) continue;
    const text = statusNoteText(cell.after);
    if (text) notes.add(text, { workload: cell.workload, variant: cell.variant });
  }
  return notes.notes();
}
