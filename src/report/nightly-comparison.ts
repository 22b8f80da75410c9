/**
 * What kexp nightly decides about a recorded run against the previous complete one: the
 * comparison of the report's function, the cells that changed in every other counted function,
 * the files it writes beside the run (comparison.<ext> in every format, with the bisections under
 * it), and its exit code. The command runs the experiment, the bisections and --notify.
 */
import type { Comparison } from './compare.js';
import { compareRuns } from './compare.js';
import type { NightlyRecord } from '../results/nightly.js';
import { RunStore, type DamagedCell } from '../results/store.js';
import type { Cell } from './model.js';
import { appendBisections } from './nightly.js';
import { getRenderer, rendererNames } from './renderer.js';
import { loadReportInput } from './write.js';

/**
 * A cell whose figure or status changed between two runs, in one counted function: what nightly
 * reports and what its bisections start from (bisect/nightly-plan.ts).
 */
export interface CellChange {
  kernel: string;
  variant: string;
  workload: string;
  function: string;
  before: Cell;
  after: Cell;
}

/** The comparison of two run folders over every function they count, the report's function first. */
export function compareAllFunctions(previousDir: string, dir: string): { comparison: Comparison; damaged: DamagedCell[]; changes: CellChange[] } {
  const a = loadReportInput(previousDir);
  const b = loadReportInput(dir);
  const comparison = compareRuns(a.input, b.input, { function: b.function });
  const functions = [...new Set([b.function, ...b.input.rows.map((r) => r.function), ...a.input.rows.map((r) => r.function)])];
  const changes: CellChange[] = [];
  for (const fn of functions) {
    const compared = fn === b.function ? comparison : compareRuns(a.input, b.input, { function: fn });
    for (const c of compared.changes)
      changes.push({ kernel: c.kernel, variant: c.variant, workload: c.workload, function: fn, before: c.before, after: c.after });
  }
  return { comparison, damaged: [...a.damaged, ...b.damaged], changes };
}

/** The comparison of an earlier nightly, to rewrite under its resumed bisections (none if it cannot be read now). */
export function comparisonIfReadable(previousDir: string, dir: string): Comparison | undefined {
  try {
    return compareAllFunctions(previousDir, dir).comparison;
  } catch {
    return undefined;
  }
}

/** "6.12 baseline, async-pf, handle_userfault: 2 → 3": a change of a function other than the report's. */
export function otherChangeText(c: CellChange): string {
  return `${c.kernel} ${c.variant}, ${c.workload}, ${c.function}: ${c.before.label} → ${c.after.label}`;
}

/** comparison.<ext> in every format, with the nightly's bisections under it. */
export function writeComparison(dir: string, comparison: Comparison, record: NightlyRecord | undefined, recordPath: (id: string) => string): void {
  const store = new RunStore(dir);
  for (const name of rendererNames) {
    const renderer = getRenderer(name);
    store.writeFile(`comparison.${renderer.extension}`, appendBisections(name, renderer.render(comparison), record, recordPath));
  }
}

/**
 * The nightly's verdict: changed figures or statuses (the report's function and every other
 * counted one), new failures, and exit code 1 when any, or when a sample of this run failed.
 */
export function nightlyVerdict(
  comparison: Comparison | undefined,
  otherChanges: readonly CellChange[],
  findings: boolean,
): { changed: number; newFailures: number; code: 0 | 1 } {
  const changed = (comparison?.counts.changed ?? 0) + otherChanges.length;
  const newFailures = comparison?.counts.newFailures ?? 0;
  return { changed, newFailures, code: changed > 0 || newFailures > 0 || findings ? 1 : 0 };
}
