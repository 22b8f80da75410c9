/**
 * JSON: a stable, documented object for scripts and dashboards. The shapes are zod schemas, so the
 * JSON Schemas in schemas/ (report.v1, compare.v1) are generated from the same source and a test
 * keeps them equal. A change that breaks a reader gets a new schema version.
 */
import { z } from 'zod';
import type { Comparison, ComparedCell } from '../../results/compare.js';
import type { Cell, Note, ReportTables, RunInfo, Table } from '../model.js';
import type { Renderer, Renderable } from '../renderer.js';

// Spelled out for zod's types; a test keeps them equal to results/types.ts.
export const statusSchema = z.enum(['ok', 'failed', 'crashed', 'hung', 'skipped']);
const cellStatusSchema = z.enum([...statusSchema.options, 'missing']).describe('the figure row\'s status, or missing when the run has no row for the cell');

const cellSchema = z.strictObject({
  variant: z.string(),
  status: cellStatusSchema,
  text: z.string().describe('what the table shows: "2", "1.5*" (flagged), "CRASHED", "1/3 hung", "missing"'),
  per_page: z.number().nullable().describe('calls per faulted page (slope of the fit); null whenever status is not ok'),
  fixed: z.number().nullable().describe('calls independent of the page count (intercept of the fit); null when not ok'),
  residual: z.number().nullable().describe('root mean square distance of the samples from the fitted line; null when not ok'),
  samples: z.strictObject({ ok: z.number().int(), total: z.number().int() }).nullable().describe('ok samples of all samples behind the cell; null when missing'),
  statusCounts: z.record(statusSchema, z.number().int()).nullable().describe('samples by status; null when missing'),
  reason: z.string().nullable().describe('why the cell is not ok, in full'),
  flags: z.array(z.string()).describe('why an ok figure should not be taken as it stands (non-integral slope, residual, collectors disagreeing)'),
});

const noteSchema = z.strictObject({
  kind: z.enum(['flag', 'status']).describe('flag: explains a marked figure; status: why cells are not numbers'),
  marker: z.string().describe('"*" for flags, empty for status notes'),
  text: z.string(),
  cells: z.array(z.strictObject({ workload: z.string(), variant: z.string() })),
});

const tableShape = <C extends z.ZodType>(cell: C) => z.strictObject({
  kernel: z.string(),
  title: z.string(),
  variants: z.array(z.string()).describe('column order'),
  workloads: z.array(z.string()).describe('row order'),
  rows: z.array(z.strictObject({ workload: z.string(), cells: z.array(cell).describe('one per variant, in the order of variants') })),
  notes: z.array(noteSchema),
});

const runFields = {
  runId: z.string(),
  experiment: z.string(),
  startedAt: z.string().describe('ISO 8601'),
  state: z.enum(['complete', 'incomplete']).describe('incomplete: the run was interrupted, and the cells it did not reach are missing'),
};

export const reportJsonSchema = z.strictObject({
  schema: z.literal('kexp/report@1'),
  ...runFields,
  function: z.string().describe('the function (or tracepoint group/name) whose figures the cells show'),
  functions: z.array(z.string()).describe('every function and tracepoint the run has figures for'),
  tables: z.array(tableShape(cellSchema)).describe('one per kernel'),
  provenance: z.array(z.string()),
});

const comparedRunSchema = z.strictObject({ ...runFields, provenance: z.array(z.string()) });
const sideSchema = cellSchema.omit({ variant: true });

const comparedCellSchema = z.strictObject({
  variant: z.string(),
  text: z.string().describe('"= 2" when unchanged, else "before → after": "2 → 1", "2 → CRASHED"'),
  changed: z.boolean(),
  figureChanged: z.boolean().describe('both ok, and per_page differs by more than 1e-9'),
  statusChanged: z.boolean().describe('another status, or other sample counts'),
  newFailure: z.boolean().describe('ok before, not ok after (missing counts as not ok)'),
  before: sideSchema,
  after: sideSchema,
});

export const comparisonJsonSchema = z.strictObject({
  schema: z.literal('kexp/compare@1'),
  function: z.string(),
  before: comparedRunSchema,
  after: comparedRunSchema,
  summary: z.strictObject({ cells: z.number().int(), changed: z.number().int(), newFailures: z.number().int() }),
  tables: z.array(tableShape(comparedCellSchema)),
  changes: z.array(z.strictObject({
    kernel: z.string(),
    workload: z.string(),
    variant: z.string(),
    text: z.string(),
    newFailure: z.boolean(),
    before: z.strictObject({ status: cellStatusSchema, per_page: z.number().nullable() }),
    after: z.strictObject({ status: cellStatusSchema, per_page: z.number().nullable(), reason: z.string().nullable() }),
  })).describe('every changed cell: kernel by kernel, variant by variant, workloads in row order'),
});

export type ReportJson = z.infer<typeof reportJsonSchema>;
export type ComparisonJson = z.infer<typeof comparisonJsonSchema>;

/** The JSON Schema files (schemas/<name>) of the two documents. */
export function jsonOutputSchemas(): Record<string, unknown> {
  return {
    'report.v1.schema.json': { $id: 'kexp/report.v1.schema.json', title: 'kexp report --format json (schema "kexp/report@1")', ...z.toJSONSchema(reportJsonSchema) },
    'compare.v1.schema.json': { $id: 'kexp/compare.v1.schema.json', title: 'kexp compare --format json (schema "kexp/compare@1")', ...z.toJSONSchema(comparisonJsonSchema) },
  };
}

export const jsonRenderer: Renderer = {
  name: 'json',
  extension: 'json',
  mediaType: 'application/json',
  render: (view: Renderable) => `${JSON.stringify(view.kind === 'report' ? reportJson(view) : comparisonJson(view), null, 2)}\n`,
};

function cellFields(cell: Cell) {
  return {
    status: cell.status,
    text: cell.text,
    per_page: cell.perPage,
    fixed: cell.fixed,
    residual: cell.residual,
    samples: cell.samples,
    statusCounts: cell.statusCounts,
    reason: cell.reason,
    flags: cell.flags,
  };
}

function noteJson(note: Note) {
  return { kind: note.kind, marker: note.marker, text: note.text, cells: note.cells.map((c) => ({ workload: c.workload, variant: c.variant })) };
}

function tableJson<C, J>(table: Table<C>, cell: (c: C, variant: string) => J) {
  return {
    kernel: table.kernel,
    title: table.title,
    variants: table.variants,
    workloads: table.rows.map((r) => r.workload),
    rows: table.rows.map((r) => ({ workload: r.workload, cells: r.cells.map((c, i) => cell(c, table.variants[i]!)) })),
    notes: table.notes.map(noteJson),
  };
}

function runJson(run: RunInfo) {
  return { runId: run.runId, experiment: run.experiment, startedAt: run.startedAt, state: run.state };
}

export function reportJson(report: ReportTables): ReportJson {
  return {
    schema: 'kexp/report@1',
    ...runJson(report.run),
    function: report.function,
    functions: report.functions,
    tables: report.tables.map((t) => tableJson(t, (c, variant) => ({ variant, ...cellFields(c) }))),
    provenance: report.provenance,
  };
}

function comparedCellJson(c: ComparedCell, variant: string) {
  return {
    variant,
    text: c.text,
    changed: c.changed,
    figureChanged: c.figureChanged,
    statusChanged: c.statusChanged,
    newFailure: c.newFailure,
    before: cellFields(c.before),
    after: cellFields(c.after),
  };
}

export function comparisonJson(comparison: Comparison): ComparisonJson {
  return {
    schema: 'kexp/compare@1',
    function: comparison.function,
    before: { ...runJson(comparison.before), provenance: comparison.before.provenance },
    after: { ...runJson(comparison.after), provenance: comparison.after.provenance },
    summary: { ...comparison.counts },
    tables: comparison.tables.map((t) => tableJson(t, comparedCellJson)),
    changes: comparison.changes.map((c) => ({
      kernel: c.kernel,
      workload: c.workload,
      variant: c.variant,
      text: c.text,
      newFailure: c.newFailure,
      before: { status: c.before.status, per_page: c.before.perPage },
      after: { status: c.after.status, per_page: c.after.perPage, reason: c.after.reason },
    })),
  };
}
