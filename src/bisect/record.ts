/**
 * A bisection's record (results/bisect-* /bisect.json), read back for --resume through the checked
 * reader: a truncated, hand-edited or crafted record is an InputError naming the file and the
 * field, never a stack trace, and what it says is checked before it is built or booted (revision
 * ids, the kernel's name, the workload, the predicate).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { bootStatuses, collectorNames, statuses } from '../records/index.js';
import { displayPath, readRecordFile, safeId } from '../results/records.js';
import { parsePredicate } from './predicate.js';
import type { GuestPlan } from '../image/plan.js';
import type { AccelRequest } from '../vm/accel.js';
import type { Step } from './search.js';
import type { JudgedFigure, Judgement, StepOutcome } from './predicate.js';

export type BisectSource = { mode: 'git'; repo: string; good: string; bad: string } | { mode: 'series'; dir: string };

export interface BisectRequest {
  source: BisectSource;
  /** The recipe whose fragments (git mode) or whose kernel (series mode) is used. */
  kernel: string;
  plan: GuestPlan;
  predicate: string;
  accel: AccelRequest;
  /** Git mode: the variant whose patches go on every commit (kexp nightly bisecting a variant's cell); none: the commits as they are. */
  variant?: string;
  /** The layer kexp wrote for --tree or --config (resumed in it). */
  root?: string;
}

export interface BisectRevision {
  index: number;
  /** A commit id, or the number of patches applied. */
  id: string;
  label: string;
}

export interface BisectRecord {
  schema: 'kexp/bisect@1';
  id: string;
  request: BisectRequest;
  revisions: BisectRevision[];
  steps: Record<string, BisectStep>;
  state: 'running' | 'complete' | 'incomplete';
  result?: Exclude<Step, { kind: 'test' }> & { summary: string };
}

export interface BisectStep extends Judgement {
  seconds: number;
  kernelKey?: string;
  /** How the boot ended, and every figure of the workload: what another predicate can be judged on later. */
  status?: StepOutcome['status'];
  figures?: JudgedFigure[];
}

const plainName = z.string().regex(/^(?!\.\.?$)[\w.-]+$/, 'expected a plain name (letters, digits, dot, dash, underscore)');

const sourceSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('git'), repo: z.string().min(1), good: z.string().min(1), bad: z.string().min(1) }).loose(),
  z.object({ mode: z.literal('series'), dir: z.string().min(1) }).loose(),
]);

const planSchema = z
  .object({
    runs: z
      .array(
        z
          .object({
            workload: plainName,
            args: z.array(z.string()),
            sizes: z.array(z.number().int().min(1).max(1_048_576)).min(1),
          })
          .loose(),
      )
      .length(1, 'a bisection measures one workload'),
    repetitions: z.number().int().min(1).max(100),
    collectors: z.array(z.enum(collectorNames)),
    // As the command line gave them (kexp bisect checks them when it starts).
    functions: z.array(z.string()),
    events: z.array(z.string()).optional(),
  })
  .loose();

const requestSchema = z
  .object({
    source: sourceSchema,
    kernel: plainName,
    plan: planSchema,
    predicate: z.string().refine(isPredicate, 'not a predicate kexp can read (e.g. "__get_user_pages.per_page <= 2")'),
    accel: z.enum(['auto', 'kvm', 'tcg']),
    variant: plainName.optional(),
    /** The layer kexp wrote for --tree or --config (a folder of its cache), when the bisection used one. */
    root: z.string().min(1).optional(),
  })
  .loose();

const stepSchema = z
  .object({
    verdict: z.enum(['good', 'bad', 'skip']),
    reason: z.string(),
    value: z.number().optional(),
    seconds: z.number(),
    kernelKey: z.string().optional(),
    status: z.enum(bootStatuses).optional(),
    figures: z
      .array(
        z
          .object({
            workload: z.string(),
            function: z.string(),
            status: z.enum(statuses),
            reason: z.string().optional(),
            per_page: z.number().nullable(),
            fixed: z.number().nullable(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();

const resultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('found'), index: z.number().int().nonnegative(), summary: z.string() }).loose(),
  z.object({ kind: z.literal('ambiguous'), candidates: z.array(z.number().int().nonnegative()), summary: z.string() }).loose(),
  z.object({ kind: z.literal('error'), message: z.string(), summary: z.string() }).loose(),
]);

export const bisectRecordSchema = z
  .object({
    schema: z.literal('kexp/bisect@1'),
    id: safeId,
    request: requestSchema,
    revisions: z
      .array(z.object({ index: z.number().int().nonnegative(), id: z.string(), label: z.string() }).loose())
      .min(2, 'a bisection needs a good and a bad revision'),
    steps: z.record(z.string().regex(/^\d+$/, 'a revision index'), stepSchema),
    state: z.enum(['running', 'complete', 'incomplete']),
    result: resultSchema.optional(),
  })
  .loose()
  .superRefine((record, ctx) => {
    const git = record.request.source.mode === 'git';
    record.revisions.forEach((revision, i) => {
      if (revision.index !== i) ctx.addIssue({ code: 'custom', path: ['revisions', i, 'index'], message: `expected ${i} (revisions are listed in order)` });
      // A revision id becomes a git ref and a variant name: a commit id, or a count of patches.
      const ok = git ? /^[0-9a-f]{40,64}$/.test(revision.id) : revision.id === String(i);
      if (!ok)
        ctx.addIssue({ code: 'custom', path: ['revisions', i, 'id'], message: git ? 'expected a full commit id (hex)' : `expected "${i}" (patches applied)` });
    });
    for (const key of Object.keys(record.steps)) {
      if (Number(key) >= record.revisions.length)
        ctx.addIssue({ code: 'custom', path: ['steps', key], message: `no revision ${key} (there are ${record.revisions.length})` });
    }
  });

function isPredicate(text: string): boolean {
  try {
    parsePredicate(text);
    return true;
  } catch {
    return false;
  }
}

export function bisectRecordFile(resultsDir: string, id: string): string {
  return join(resultsDir, id, 'bisect.json');
}

/** bisect.json, checked; any problem is an InputError naming the file. */
export function readBisectRecord(file: string): BisectRecord {
  const dir = join(file, '..');
  return readRecordFile(file, bisectRecordSchema, {
    what: 'bisection record',
    consequence: 'the bisection record is damaged and cannot be resumed',
    fix: `remove the folder ${displayPath(dir)} (or restore bisect.json from a copy) and start the bisection again`,
  }) as unknown as BisectRecord;
}
