/**
 * JSON: a stable, documented object for scripts and dashboards. The shapes are zod schemas, so the
 * JSON Schemas in schemas/ (report.v1, compare.v1) are generated from the same source and a test
 * keeps them equal. A change that breaks a reader gets a new schema version.
 */
import { z } from 'zod';
import { describeBucket, describeChange, type BucketChange } from '../../explain/buckets.js';
import type { Comparison, ComparedCell } from '../compare.js';
import { type Bucket, type ExplainSummary, statuses } from '../../records/index.js';
import type { WhatChanged } from '../buckets.js';
import type { Cell, Note, ReportTable, ReportTables, RunInfo, Table } from '../model.js';
import type { Renderer, Renderable } from './types.js';

export const statusSchema = z.enum(statuses);
const cellStatusSchema = z.enum([...statusSchema.options, 'missing']).describe("the figure row's status, or missing when the run has no row for the cell");

const bucketSchema = z.strictObject({
  description: z.string().describe('the bucket in one line, as kexp explain names it: flags, pages, nr_pages, return value, then the caller chain'),
  caller: z.array(z.string()).describe('caller frames, innermost first'),
  flags: z.array(z.string()).nullable().describe('gup_flags decoded to FOLL_* names; null when the function has no flags or they were not decoded'),
  flagsValue: z.number().nullable().describe('gup_flags as a number; null when the function has none'),
  pages_null: z.boolean().nullable().describe('whether pages was NULL; null when not keyed on it'),
  nr_pages: z.enum(['1', 'range']).nullable().describe('one page or a range; null when not keyed on it'),
  ret: z
    .union([z.number(), z.literal('>0')])
    .nullable()
    .describe('the return value, ">0" for a range call that got somewhere, null when not paired'),
  per_page: z.number().nullable().describe('calls of this bucket per faulted page (slope of its own fit); null when it could not be fitted'),
  fixed: z.number().nullable(),
  residual: z.number().nullable(),
});

const explainSchema = z
  .strictObject({
    buckets: z.array(bucketSchema).describe('largest per_page first'),
    adds_up: z
      .boolean()
      .describe('whether the buckets add up to the total the collectors counted, in every sample; when false they do not explain the whole figure'),
    problems: z.array(z.string()),
  })
  .describe('kexp explain: the figure split into buckets (only on ok cells of a run that explained the function)');

const bucketChangeSchema = z.strictObject({
  bucket: z.string().describe('the bucket, as in buckets[].description'),
  before: z.number().describe('per page before (0: the bucket was not there)'),
  after: z.number().describe('per page after (0: the bucket is gone)'),
  delta: z.number().describe('after - before, to three decimals'),
  text: z.string().describe('"-1/page: FOLL_...|FOLL_TRIED, pages=NULL, nr_pages=1, ret 1 from a < b < c (gone)"'),
});

const cellSchema = z.strictObject({
  variant: z.string(),
  status: cellStatusSchema,
  text: z.string().describe('what the table shows: "2", "1.5*" (flagged), "CRASHED", "1/3 hung", "missing"'),
  per_page: z.number().nullable().describe('calls per faulted page (slope of the fit); null whenever status is not ok'),
  fixed: z.number().nullable().describe('calls independent of the page count (intercept of the fit); null when not ok'),
  residual: z.number().nullable().describe('root mean square distance of the samples from the fitted line; null when not ok'),
  samples: z
    .strictObject({ ok: z.number().int(), total: z.number().int() })
    .nullable()
    .describe('ok samples of all samples behind the cell; null when missing'),
  statusCounts: z.record(statusSchema, z.number().int()).nullable().describe('samples by status; null when missing'),
  reason: z.string().nullable().describe('why the cell is not ok, in full'),
  flags: z.array(z.string()).describe('why an ok figure should not be taken as it stands (non-integral slope, residual, collectors disagreeing)'),
  explain: explainSchema.optional(),
  unit: z
    .enum(['n', 'run'])
    .optional()
    .describe('a program\'s figure: per unit of its own {n} ("n"), or per run when it has no size ("run", see per_run); absent: per page'),
  per_run: z
    .strictObject({ mean: z.number(), min: z.number(), max: z.number(), runs: z.number().int() })
    .optional()
    .describe('unit "run", ok: mean calls per run and their spread over the repetitions'),
});

const noteSchema = z.strictObject({
  kind: z.enum(['flag', 'status']).describe('flag: explains a marked figure; status: why cells are not numbers'),
  marker: z.string().describe('"*" for flags, empty for status notes'),
  text: z.string(),
  cells: z.array(z.strictObject({ workload: z.string(), variant: z.string() })),
});

const tableShape = <C extends z.ZodType>(cell: C) =>
  z.strictObject({
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

const whatChangedSchema = z
  .strictObject({
    baseline: z.string().describe('the first variant: the others are compared with it'),
    cells: z
      .array(
        z.strictObject({
          workload: z.string(),
          variant: z.string(),
          changes: z
            .array(bucketChangeSchema)
            .nullable()
            .describe("buckets whose per_page differs from the baseline cell's; null for the baseline itself or when its cell has no buckets"),
          adds_up: z.boolean(),
          problems: z.array(z.string()),
        }),
      )
      .describe("workload by workload: every other variant's cell with buckets, and a baseline cell whose buckets do not add up"),
  })
  .describe('which buckets changed from the first variant (only when the run explained the function)');

const testCountsSchema = z.strictObject({
  pass: z.number().int(),
  fail: z.number().int(),
  skip: z.number().int(),
  xfail: z.number().int(),
  error: z.number().int(),
});

const testCellSchema = z.strictObject({
  variant: z.string(),
  test: z.string().nullable().describe("the test as its TAP line names it; null on a program's summary row"),
  status: z
    .enum(['pass', 'fail', 'skip', 'missing', 'none'])
    .describe('fail: some run failed it; missing: some run gave no result; skip: skipped in every run; none: not run in this variant'),
  text: z.string().describe('"pass", "FAIL", "1/3 FAIL", "skip", "-"; a summary row: "15 pass, 1 FAIL"'),
  counts: testCountsSchema.nullable().describe("results over every size and repetition (a summary row: its tests' verdicts); null when not run"),
  missing: z.number().int(),
  reasons: z.array(z.string()).describe('skip or failure reasons, at most three'),
});

const testsSchema = z
  .strictObject({
    tables: z
      .array(tableShape(testCellSchema))
      .describe('one per kernel: a row per program, then a row per test that failed or gave no result in some variant, or whose variants disagree'),
    findings: z
      .array(
        z.strictObject({
          kernel: z.string(),
          workload: z.string(),
          test: z.string(),
          baseline: z.string(),
          variant: z.string(),
          text: z.string(),
        }),
      )
      .describe('tests that pass on the first variant and fail (or give no result) on another'),
  })
  .describe("test programs' results (kselftests, programs run as they are); only when the run ran any");

export const reportJsonSchema = z.strictObject({
  schema: z.literal('kexp/report@1'),
  ...runFields,
  function: z.string().describe('the function (or tracepoint group/name) whose figures the cells show'),
  functions: z.array(z.string()).describe('every function and tracepoint the run has figures for'),
  tables: z.array(tableShape(cellSchema).extend({ whatChanged: whatChangedSchema.optional() })).describe('one per kernel'),
  tests: testsSchema.optional(),
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
  bucketChanges: z
    .array(bucketChangeSchema)
    .optional()
    .describe('kexp explain: buckets whose per_page changed (only when both runs have buckets for the cell)'),
});

export const comparisonJsonSchema = z.strictObject({
  schema: z.literal('kexp/compare@1'),
  function: z.string(),
  before: comparedRunSchema,
  after: comparedRunSchema,
  summary: z.strictObject({ cells: z.number().int(), changed: z.number().int(), newFailures: z.number().int() }),
  tables: z.array(tableShape(comparedCellSchema)),
  changes: z
    .array(
      z.strictObject({
        kernel: z.string(),
        workload: z.string(),
        variant: z.string(),
        text: z.string(),
        newFailure: z.boolean(),
        before: z.strictObject({ status: cellStatusSchema, per_page: z.number().nullable() }),
        after: z.strictObject({ status: cellStatusSchema, per_page: z.number().nullable(), reason: z.string().nullable() }),
        bucketChanges: z.array(bucketChangeSchema).optional().describe('the buckets that changed (only when both runs have buckets for the cell)'),
      }),
    )
    .describe('every changed cell: kernel by kernel, variant by variant, workloads in row order'),
  testChanges: z
    .array(
      z.strictObject({
        kernel: z.string(),
        variant: z.string(),
        workload: z.string(),
        test: z.string(),
        before: testCellSchema.shape.status,
        after: testCellSchema.shape.status,
        newFailure: z.boolean().describe('pass before, fail or no result after'),
        text: z.string(),
      }),
    )
    .optional()
    .describe('tests whose verdict changed (only when either run had test programs), new failures first'),
});

export type ReportJson = z.infer<typeof reportJsonSchema>;
export type ComparisonJson = z.infer<typeof comparisonJsonSchema>;

/** The JSON Schema files (schemas/<name>) of the two documents. */
export function jsonOutputSchemas(): Record<string, unknown> {
  return {
    'report.v1.schema.json': {
      $id: 'kexp/report.v1.schema.json',
      title: 'kexp report --format json (schema "kexp/report@1")',
      ...z.toJSONSchema(reportJsonSchema),
    },
    'compare.v1.schema.json': {
      $id: 'kexp/compare.v1.schema.json',
      title: 'kexp compare --format json (schema "kexp/compare@1")',
      ...z.toJSONSchema(comparisonJsonSchema),
    },
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
    ...(cell.explain ? { explain: explainJson(cell.explain) } : {}),
    ...(cell.unit ? { unit: cell.unit } : {}),
    ...(cell.perRun ? { per_run: { ...cell.perRun } } : {}),
  };
}

function explainJson(explain: ExplainSummary) {
  return { buckets: explain.buckets.map(bucketJson), adds_up: explain.adds_up, problems: explain.problems };
}

// Not the samples' calls: they mean nothing without the sizes (kexp explain --json has both).
function bucketJson(b: Bucket) {
  return {
    description: describeBucket(b),
    caller: b.caller,
    flags: b.flags,
    flagsValue: b.flagsValue,
    pages_null: b.pages_null,
    nr_pages: b.nr_pages,
    ret: b.ret,
    per_page: b.per_page,
    fixed: b.fixed,
    residual: b.residual,
  };
}

function bucketChangeJson(c: BucketChange) {
  return { bucket: c.bucket, before: c.before, after: c.after, delta: c.delta, text: describeChange(c) };
}

function whatChangedJson(what: WhatChanged) {
  return {
    baseline: what.baseline,
    cells: what.cells.map((n) => ({
      workload: n.workload,
      variant: n.variant,
      changes: n.changes?.map(bucketChangeJson) ?? null,
      adds_up: n.addsUp,
      problems: n.problems,
    })),
  };
}

function reportTableJson(table: ReportTable) {
  const json = tableJson(table, (c, variant) => ({ variant, ...cellFields(c) }));
  return table.whatChanged ? { ...json, whatChanged: whatChangedJson(table.whatChanged) } : json;
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
    tables: report.tables.map(reportTableJson),
    ...(report.tests
      ? {
          tests: {
            tables: report.tests.tables.map((t) =>
              tableJson(t, (c, variant) => ({
                variant,
                test: c.test,
                status: c.status,
                text: c.label,
                counts: c.counts ? { ...c.counts } : null,
                missing: c.missing,
                reasons: [...c.reasons],
              })),
            ),
            findings: report.tests.findings.map((f) => ({ ...f })),
          },
        }
      : {}),
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
    ...(c.bucketChanges ? { bucketChanges: c.bucketChanges.map(bucketChangeJson) } : {}),
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
      ...(c.bucketChanges ? { bucketChanges: c.bucketChanges.map(bucketChangeJson) } : {}),
    })),
    ...(comparison.testChanges ? { testChanges: comparison.testChanges.map((t) => ({ ...t })) } : {}),
  };
}
