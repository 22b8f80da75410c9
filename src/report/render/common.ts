/** Wording that every renderer shares, so the formats say the same thing. Pure. */
import type { Change, Comparison, ComparedRun } from '../../results/compare.js';
import type { RunInfo } from '../model.js';

export const FIT_NOTE = 'Each figure is the per-page slope of calls = fixed + per_page * pages, fitted over every size and repetition. A cell that is not ok shows its status, never a number.';

export const FLAG_NOTE = '* marks a figure that is flagged (see the notes under its table).';

/** Which run: its id and experiment, then when it started and whether it finished. */
export function runLines(run: RunInfo): [string, string] {
  const state = run.state === 'complete' ? 'complete' : 'incomplete (interrupted: cells it did not reach are missing)';
  return [`run ${run.runId}, experiment ${run.experiment}`, `started ${displayTime(run.startedAt)}, ${state}`];
}

export function runLine(run: RunInfo): string {
  return runLines(run).join(', ');
}

/** "2025-06-12T09:15:00.000Z" as "2025-06-12 09:15:00 UTC"; anything else as given. */
export function displayTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function comparisonSummary(comparison: Comparison): string {
  const { cells, changed, newFailures } = comparison.counts;
  return `${changed} of ${plural(cells, 'cell')} changed, ${plural(newFailures, 'new failure')}.`;
}

export function changeText(change: Change): string {
  return `${change.kernel} ${change.variant}, ${change.workload}: ${change.text}${change.newFailure ? ' (new failure)' : ''}`;
}

/** Provenance of both runs: once when they agree, else under "before:" and "after:". */
export function comparisonProvenance(before: ComparedRun, after: ComparedRun): { heading: string; lines: string[] }[] {
  const same = before.provenance.length === after.provenance.length && before.provenance.every((line, i) => line === after.provenance[i]);
  if (same) return [{ heading: 'both runs', lines: before.provenance }];
  return [
    { heading: 'before', lines: before.provenance },
    { heading: 'after', lines: after.provenance },
  ];
}
