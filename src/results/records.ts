/**
 * The one checked reader of the records kexp leaves behind (a run's manifest.json, a cell's
 * cell.json, a bisection's bisect.json). A record is data from disk, not from this process: it may
 * be truncated (a full disk, a copy cut short), hand-edited, or crafted. Whatever is wrong with it
 * becomes an InputError (exit 2) that names the file, what is wrong, and what to do, never a stack
 * trace and never a path outside the record (ids that become folder names are checked here).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { z } from 'zod';
import { EnvironmentError, InputError } from '../core/errors.js';
import { valueAt } from '../config/issues.js';
import { bootStatuses, statuses } from '../records/index.js';

/**
 * A name that becomes one path component (a run id, a cell id): letters, digits, dot, dash,
 * underscore; never ".", "..", a slash, or empty.
 */
export const SAFE_ID = /^(?!\.\.?$)[\w.-]{1,200}$/;

export function isSafeId(id: string): boolean {
  return SAFE_ID.test(id);
}

export const safeId = z.string().regex(SAFE_ID, 'expected a plain name (letters, digits, dot, dash, underscore; no slash, not "." or "..")');

/** A file as the user should read it: relative to the working folder when it is inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export interface RecordKind {
  /** What the file is, for messages: "run manifest", "cell record", "bisection record". */
  what: string;
  /** What a damaged file means, said after the problem: "the run record is damaged". */
  consequence: string;
  /** What to do about it (the error's hint). */
  fix: string;
}

/** The problem with a record file, as one line: "truncated or not JSON (Unexpected end …)". */
export class RecordProblem {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly kind: RecordKind,
  ) {}

  get message(): string {
    return `${displayPath(this.file)}: ${this.problem}; ${this.kind.consequence}`;
  }

  toError(): InputError {
    return new InputError(this.message, this.kind.fix);
  }
}

/** Read and check a record; a problem comes back as a value (for readers that go on without it). */
export function checkRecordFile<S extends z.ZodType>(
  file: string,
  schema: S,
  kind: RecordKind,
): { ok: true; value: z.output<S> } | { ok: false; problem: RecordProblem } {
  const fail = (problem: string): { ok: false; problem: RecordProblem } => ({ ok: false, problem: new RecordProblem(file, problem, kind) });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new EnvironmentError(`${displayPath(file)}: cannot be read (permission denied)`, "check the file's owner and mode");
    if (code === 'ENOENT') return fail('missing');
    if (code === 'EISDIR') return fail('is a folder, not a file');
    return fail(`cannot be read (${(error as Error).message})`);
  }
  if (text.trim() === '') return fail('empty');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return fail(`truncated or not JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) return fail(`not a valid ${kind.what}: ${describeIssues(parsed.error, data)}`);
  return { ok: true, value: parsed.data };
}

/** Read and check a record; any problem is an InputError naming the file. */
export function readRecordFile<S extends z.ZodType>(file: string, schema: S, kind: RecordKind): z.output<S> {
  const checked = checkRecordFile(file, schema, kind);
  if (!checked.ok) throw checked.problem.toError();
  return checked.value;
}

/** The first few schema issues, each with the field's path and what was found. */
function describeIssues(error: z.ZodError, data: unknown): string {
  const shown = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    const found = valueAt(data, issue.path);
    const foundText = found === undefined ? 'nothing' : (JSON.stringify(found) ?? String(found)).slice(0, 60);
    return `${path}: ${issue.message} (found ${foundText})`;
  });
  const more = error.issues.length > 3 ? `; and ${error.issues.length - 3} more` : '';
  return `${shown.join('; ')}${more}`;
}

// ---- the run record ----------------------------------------------------------------------------

const bootStatus = z.enum(bootStatuses);
const sampleStatus = z.enum(statuses);
const count = z.number();

const cellStateSchema = z
  .object({
    kernel: z.string(),
    variant: z.string(),
    rep: z.number().int().nonnegative(),
    state: z.enum(['pending', 'done']),
    status: bootStatus.optional(),
    reason: z.string().optional(),
    seconds: z.number().optional(),
    worker: z.string().optional(),
  })
  .loose();

const provenanceSchema = z.object({ key: z.string() }).loose();

/** manifest.json: the fields every reader of a run relies on are checked; newer fields may follow. */
export const manifestSchema = z
  .object({
    schema: z.literal('kexp/run@1'),
    id: safeId,
    experiment: z.string(),
    experimentFile: z.string(),
    state: z.enum(['running', 'complete', 'incomplete']),
    startedAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().optional(),
    only: z.record(z.string(), z.array(z.string())).optional(),
    kexp: z.object({ version: z.string(), commit: z.string().nullable() }).loose(),
    host: z.object({ hostname: z.string(), kernel: z.string(), cpus: z.number(), memoryMiB: z.number() }).loose(),
    qemu: z.string().nullable(),
    accel: z.object({ accel: z.string(), reason: z.string() }).loose().optional(),
    executor: z.object({ name: z.string(), redis: z.string().optional(), store: z.string().optional() }).loose().optional(),
    cancelledAt: z.string().optional(),
    artifacts: z.object({ kernels: z.record(z.string(), provenanceSchema), image: provenanceSchema.optional() }).loose(),
    cells: z.record(safeId, cellStateSchema),
    plannedCells: z.array(safeId),
  })
  .loose()
  .superRefine((manifest, ctx) => {
    manifest.plannedCells.forEach((id, index) => {
      if (!Object.hasOwn(manifest.cells, id))
        ctx.addIssue({ code: 'custom', path: ['plannedCells', index], message: `cell "${id}" is planned but missing from cells` });
    });
  });

const callGroupSchema = z
  .object({
    stack: z.array(z.string()),
    flags: count.nullable(),
    flagNames: z.array(z.string()).nullable(),
    pagesNull: z.boolean().nullable(),
    nrPages: z.enum(['1', 'range']).nullable(),
    ret: z.union([count, z.literal('>0')]).nullable(),
    calls: count,
  })
  .loose();

const sampleExplainSchema = z
  .object({
    mode: z.enum(['return', 'entry']),
    groups: z.array(callGroupSchema),
    dropped: count,
    problems: z.array(z.string()),
  })
  .loose();

const sampleRecordSchema = z
  .object({
    workload: z.string(),
    args: z.array(z.string()),
    /** Pages; a program's pages of its size, its own n, or 0 when it has no size (kexp boot -- CMD). */
    pages: z.number().nonnegative(),
    rep: z.number().int().nonnegative(),
    status: sampleStatus,
    reason: z.string().optional(),
    counts: z.record(z.string(), z.record(z.string(), count)),
    result: z.object({ ok: z.boolean(), skipped: z.boolean().optional(), error: z.string().nullable().optional() }).loose().nullable(),
    notes: z.array(z.string()).optional(),
    explain: z.record(z.string(), sampleExplainSchema).optional(),
    hist: z.record(z.string(), z.string()).optional(),
  })
  .loose();

/** cells/<id>/cell.json. */
export const cellRecordSchema = z
  .object({
    schema: z.literal('kexp/cell@1'),
    id: safeId,
    kernel: z.string(),
    variant: z.string(),
    rep: z.number().int().nonnegative(),
    status: bootStatus,
    reason: z.string().optional(),
    excerpt: z.array(z.string()).optional(),
    accel: z.string(),
    kernelKey: z.string().nullable(),
    imageKey: z.string().nullable(),
    seconds: z.number(),
    worker: z.string(),
    traceable: z.record(z.string(), z.record(z.string(), z.boolean())).nullable(),
    warnings: z.array(z.object({ title: z.string(), excerpt: z.array(z.string()) }).loose()),
    agentErrors: z.array(z.string()),
    samples: z.array(sampleRecordSchema),
  })
  .loose();
