/**
 * What `kexp nightly --bisect` bisects, decided as plain functions over the two runs' cells (pure):
 * each changed cell's predicate (what "still like the previous run" means), which changes go into
 * one bisection, and whether a change shares the first bad commit another change's bisection found.
 *
 * A figure that moved from a to b is judged against the midpoint: "F.per_page > 2.5" for 3 → 2, so
 * the first bad commit is the first one whose figure is on b's side. A cell that started failing
 * is judged on the boot's status, the one status a bisection step can see. Changes of one kernel,
 * variant and workload between the same two commits go into one bisection: each of its steps
 * boots that workload once and keeps every figure, so after it found commit C (C's parent good),
 * every other change is judged on the very same two steps, and shares C only if C's parent is
 * good and C bad for it too; otherwise it gets a bisection of its own.
 */
import { isStopped } from '../records/index.js';
import type { CellChange } from '../report/nightly-comparison.js';
import type { BisectedChange } from '../results/nightly.js';
import { judge, parsePredicate, type StepOutcome } from './predicate.js';

/** Where the two figures are closer than this, no threshold separates them reliably. */
const MIN_GAP = 1e-6;

/** A threshold between two figures, written as a predicate can read it (no exponent). */
export function thresholdText(a: number, b: number): string | null {
  if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(a - b) < MIN_GAP) return null;
  const mid = (a + b) / 2;
  for (const digits of [1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    const text = mid.toFixed(digits).replace(/0+$/, '').replace(/\.$/, '');
    const value = Number(text);
    // Strictly between the two, with room for the judge's tolerance on either side.
    if (value > Math.min(a, b) + 1e-9 && value < Math.max(a, b) - 1e-9) return text;
  }
  return null;
}

export type ChangePredicate = { kind: 'figure' | 'status'; predicate: string } | { note: string };

/**
 * The predicate of one changed cell, or why it is not bisected. `bootStatuses`: how the boots of
 * the later run's cell ended (a workload can fail in a kernel that booted fine).
 */
export function predicateFor(change: CellChange, bootStatuses: readonly string[] = []): ChangePredicate {
  const { before, after } = change;
  if (before.status === 'ok' && after.status === 'ok') {
    if (before.perPage === null || after.perPage === null) return { note: 'a figure per run (a program without a size) is not bisected' };
    const threshold = thresholdText(before.perPage, after.perPage);
    if (threshold === null) return { note: `${before.label} and ${after.label} are too close for a threshold` };
    return { kind: 'figure', predicate: `${change.function}.per_page ${after.perPage < before.perPage ? '>' : '<'} ${threshold}` };
  }
  if (before.status !== 'ok') {
    return {
      note:
        after.status === 'ok'
          ? `it recovered (${before.label} → ${after.label}): only a change for the worse is bisected`
          : `it was not ok before either (${before.label} → ${after.label})`,
    };
  }
  // ok before, not ok after: a new failure.
  if (after.status === 'missing') return { note: 'the cell was not measured in the later run' };
  if (/^build failed/.test(after.reason ?? ''))
    return { note: 'the kernel did not build; a bisection skips commits that do not build, so it cannot find this one' };
  if (isStopped(after.status)) return { kind: 'status', predicate: `status != ${after.status}` };
  if (bootStatuses.length > 0 && bootStatuses.every((s) => s === 'ok')) {
    return {
      note: `the workload ${after.status === 'skipped' ? 'was skipped' : 'failed'} in a kernel that booted fine; a bisection step judges the boot's status, which did not change`,
    };
  }
  return { kind: 'status', predicate: 'status == ok' };
}

export interface PlannedBisection {
  kernel: string;
  variant: string;
  workload: string;
  changes: BisectedChange[];
}

/**
 * Changes into bisections: one per kernel × variant × workload (the range is that cell's two
 * commits), in the order the changes come (the report's function first). The first change of each
 * is the one its bisection judges.
 */
export function groupChanges(changes: readonly { change: CellChange; kind: 'figure' | 'status'; predicate: string }[]): PlannedBisection[] {
  const groups = new Map<string, PlannedBisection>();
  for (const { change, kind, predicate } of changes) {
    const key = JSON.stringify([change.kernel, change.variant, change.workload]);
    const group = groups.get(key) ?? { kernel: change.kernel, variant: change.variant, workload: change.workload, changes: [] };
    group.changes.push({ function: change.function, before: change.before.label, after: change.after.label, kind, predicate });
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** A step of a bisection record, as far as a judgement reads it. */
export type RecordedStep = Pick<StepOutcome, 'status' | 'figures'> | undefined;

/**
 * Whether `change` shares a first bad commit found by another predicate: good at the last good
 * step and bad at the first bad one, judged on what those steps recorded. A change with the same
 * predicate as the one judged shares it by definition.
 */
export function sharesCulprit(change: BisectedChange, judged: string, lastGood: RecordedStep, firstBad: RecordedStep, workload: string): boolean {
  if (change.predicate === judged) return true;
  if (!lastGood?.status || !firstBad?.status) return false;
  const predicate = parsePredicate(change.predicate);
  return judge(predicate, lastGood, workload).verdict === 'good' && judge(predicate, firstBad, workload).verdict === 'bad';
}
