/** Wording that every renderer shares, so the formats say the same thing. Pure. */
import { describeChange, type BucketChange } from '../../explain/buckets.js';
import type { Change, Comparison, ComparedRun } from '../compare.js';
import type { WhatChanged } from '../buckets.js';
import type { RunInfo, TestReport } from '../model.js';

export const FIT_NOTE =
  'Each figure is the per-page slope of calls = fixed + per_page * pages, fitted over every size and repetition. A cell that is not ok shows its status, never a number.';

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

export const BUCKETS_NOTE =
  'Buckets (kexp explain) split each figure by caller, gup_flags, pages, nr_pages and return value, each fitted per page like the figure.';

/** "-1/page: FOLL_...|FOLL_TRIED, pages=NULL, nr_pages=1, ret 1 from a < b < c (gone); +1/page: ..." */
export function bucketChangesText(changes: readonly BucketChange[]): string {
  return changes.map(describeChange).join('; ');
}

/** Why a cell's buckets are not the whole story: they and the counted total disagree. */
export function notAddingUpText(problems: readonly string[]): string {
  const first = problems[0];
  const more = problems.length > 1 ? `, and ${plural(problems.length - 1, 'more problem')}` : '';
  return `the buckets do not add up to the counted total${first ? ` (${first}${more})` : ''}`;
}

/**
 * The "what changed" paragraph under a report's table: a heading and one item per cell worth a
 * word (a bucket changed, nothing to compare with, buckets that do not add up); null when the
 * table has no buckets, or one variant whose buckets add up.
 */
export function whatChangedText(what: WhatChanged | null): { heading: string; items: string[] } | null {
  if (!what || what.cells.length === 0) return null;
  const items: string[] = [];
  for (const note of what.cells) {
    const where = `${note.workload}, ${note.variant}`;
    if (note.changes && note.changes.length > 0) items.push(`${where} vs ${what.baseline}: ${bucketChangesText(note.changes)}`);
    else if (!note.changes && note.variant !== what.baseline) items.push(`${where}: no ${what.baseline} buckets to compare with`);
    if (!note.addsUp) items.push(`${where}: ${notAddingUpText(note.problems)}`);
  }
  if (items.length === 0) return { heading: `What changed vs ${what.baseline}, bucket by bucket: no bucket changed.`, items };
  return { heading: `What changed vs ${what.baseline}, bucket by bucket (calls per page):`, items };
}

/** Under a changed cell of a comparison: the buckets that changed, and a side whose buckets do not add up; empty unless both runs have buckets. */
export function changeBucketTexts(change: Change): string[] {
  if (!change.bucketChanges) return [];
  const sides = [
    ['before', change.before],
    ['after', change.after],
  ] as const;
  return [
    ...change.bucketChanges.map(describeChange),
    ...sides.flatMap(([side, cell]) => (cell.explain && !cell.explain.adds_up ? [`${side}: ${notAddingUpText(cell.explain.problems)}`] : [])),
  ];
}

export const TESTS_NOTE =
  "Test results: each program's tests as its KTAP/TAP lines report them (a program without TAP is one test, judged by its exit status: 0 pass, 4 skip for a kselftest, anything else fail), over every size and repetition. A program's row sums up its tests; a row follows for every test that failed or gave no result in some variant, or whose variants disagree.";

/** The findings paragraph under the test tables: a heading and one line per finding. */
export function testFindingsText(tests: TestReport): { heading: string; items: string[] } {
  const variants = tests.tables.flatMap((t) => t.variants);
  const baseline = variants[0] ?? 'the first variant';
  if (tests.findings.length === 0) {
    const many = new Set(variants).size > 1;
    return { heading: many ? `No test passes on ${baseline} and fails on another variant.` : 'One variant: nothing to compare the tests with.', items: [] };
  }
  return {
    heading: `FINDINGS (${tests.findings.length}): tests that pass on ${baseline} and fail on another variant:`,
    items: tests.findings.map((f) => f.text),
  };
}

/** The start of every kexp HTML page's style sheet (a report, a comparison, a history): the page of the given width. */
export function basePageCss(maxWidthPx: number): string {
  return [
    `body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1b1b1b; margin: 24px auto; max-width: ${maxWidthPx}px; padding: 0 16px; }`,
    'h1 { font-size: 22px; margin: 0 0 4px; }',
    'h2 { font-size: 17px; margin: 28px 0 8px; padding-top: 12px; border-top: 1px solid #ddd; }',
    'code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; }',
    '.run { color: #555; margin: 0 0 12px; }',
    '.banner { background: #fff4ce; border: 1px solid #e0c060; padding: 6px 10px; border-radius: 4px; }',
  ].join('\n');
}
