/**
 * results/<run>/nightly.json: what `kexp nightly` learnt about a run beyond its comparison: the
 * commit each git-sourced kernel's branch pointed at, the bisections of the changes since the
 * previous run (pending, running, or done with their first bad commit), and why a change was not
 * bisected. It is written before a bisection starts and after each one ends, so a bisection the
 * nightly did not finish is found and resumed by the next one. Read back through the checked
 * reader: a damaged file is a problem value, never a stack trace.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../store/store.js';
import { checkRecordFile, displayPath, type RecordProblem, safeId } from './records.js';

export const NIGHTLY_FILE = 'nightly.json';

/** Where a kernel's branch pointed when the nightly started (a built kernel's own commit wins). */
export interface NightlySource {
  repo: string;
  ref: string;
  commit: string;
}

/** One change a bisection is about: a figure of one function, or the cell's status. */
export interface BisectedChange {
  function: string;
  /** The cell's label in each run: "3", "CRASHED". */
  before: string;
  after: string;
  /** What the predicate judges: the per-page figure, or the boot's status. */
  kind: 'figure' | 'status';
  predicate: string;
}

export type NightlyBisectResult =
  | { kind: 'found'; commit: string; subject: string; summary: string; steps: number }
  | { kind: 'ambiguous'; candidates: { commit: string; subject: string }[]; summary: string; steps: number }
  | { kind: 'error'; summary: string; steps: number };

/** A bisection of one cell (kernel × variant × workload) between the previous run and this one. */
export interface NightlyBisection {
  kernel: string;
  variant: string;
  workload: string;
  good: { run: string; commit: string };
  bad: { run: string; commit: string };
  /** The first change is the one the bisection judges; the others share its result (checked). */
  changes: BisectedChange[];
  state: 'pending' | 'running' | 'done';
  /** The bisection's record: results/<bisectId>/bisect.json. */
  bisectId?: string;
  result?: NightlyBisectResult;
}

/** A change that was not bisected, and why. */
export interface NightlyNote {
  kernel: string;
  variant: string;
  workload: string;
  function: string;
  text: string;
}

export interface NightlyRecord {
  schema: 'kexp/nightly@1';
  run: string;
  previous: string | null;
  sources: Record<string, NightlySource>;
  bisections: NightlyBisection[];
  notes: NightlyNote[];
}

const hex = z.string().regex(/^[0-9a-f]{40,64}$/, 'expected a full commit id (hex)');
const changeSchema = z
  .object({
    function: z.string(),
    before: z.string(),
    after: z.string(),
    kind: z.enum(['figure', 'status']),
    predicate: z.string(),
  })
  .loose();
const resultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('found'), commit: hex, subject: z.string(), summary: z.string(), steps: z.number().int().nonnegative() }).loose(),
  z
    .object({
      kind: z.literal('ambiguous'),
      candidates: z.array(z.object({ commit: hex, subject: z.string() }).loose()),
      summary: z.string(),
      steps: z.number().int().nonnegative(),
    })
    .loose(),
  z.object({ kind: z.literal('error'), summary: z.string(), steps: z.number().int().nonnegative() }).loose(),
]);
const end = z.object({ run: safeId, commit: hex }).loose();

export const nightlyRecordSchema = z
  .object({
    schema: z.literal('kexp/nightly@1'),
    run: safeId,
    previous: safeId.nullable(),
    sources: z.record(z.string(), z.object({ repo: z.string(), ref: z.string(), commit: hex }).loose()),
    bisections: z.array(
      z
        .object({
          kernel: z.string(),
          variant: z.string(),
          workload: z.string(),
          good: end,
          bad: end,
          changes: z.array(changeSchema).min(1, 'a bisection is about at least one change'),
          state: z.enum(['pending', 'running', 'done']),
          bisectId: safeId.optional(),
          result: resultSchema.optional(),
        })
        .loose(),
    ),
    notes: z.array(z.object({ kernel: z.string(), variant: z.string(), workload: z.string(), function: z.string(), text: z.string() }).loose()),
  })
  .loose();

export function nightlyFile(runDir: string): string {
  return join(runDir, NIGHTLY_FILE);
}

/**
 * A run's nightly.json: absent (the run was not a nightly, or an older one) is undefined; a damaged
 * one is a problem, which callers name and go on without.
 */
export function readNightlyRecord(runDir: string): { record?: NightlyRecord; problem?: RecordProblem } {
  const file = nightlyFile(runDir);
  const checked = checkRecordFile(file, nightlyRecordSchema, {
    what: 'nightly record',
    consequence: "the nightly's bisections of this run are left out",
    fix: `remove ${displayPath(file)}; kexp nightly --bisect bisects the changes of later runs`,
  });
  if (checked.ok) return { record: checked.value as unknown as NightlyRecord };
  if (checked.problem.problem === 'missing') return {};
  return { problem: checked.problem };
}

export function writeNightlyRecord(runDir: string, record: NightlyRecord): void {
  writeJsonAtomic(nightlyFile(runDir), record);
}
