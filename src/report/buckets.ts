/**
 * kexp explain in reports: the buckets behind each figure, compared cell with cell, so that a
 * report names the bucket a variant changed ("-1/page: FOLL_TRIED ... from async_pf_execute")
 * instead of only the total. Pure: cells in, changes out.
 */
import { diffBucketLists, type BucketChange } from '../explain/buckets.js';
import type { ExplainSummary } from '../records/index.js';

/** What this module reads of a report cell (model.ts's Cell). */
export interface ExplainedCell {
  workload: string;
  variant: string;
  explain: ExplainSummary | null;
}

/** One cell with buckets: how they differ from the first variant's, and whether they add up. */
export interface BucketNote {
  workload: string;
  variant: string;
  /**
   * Buckets whose per-page figure differs from the baseline cell's (empty: none did); null for
   * the baseline column itself, and when the baseline cell of the row has no buckets.
   */
  changes: BucketChange[] | null;
  /** Whether the buckets add up to the total the collectors counted in every sample. */
  addsUp: boolean;
  /** What kexp explain found wrong with them (a sample whose buckets and total disagree, ...). */
  problems: string[];
}

/** What the buckets say changed in one table: every other variant against the first. */
export interface WhatChanged {
  /** The first variant (column): the others are compared with it. */
  baseline: string;
  /** Workload by workload, variants in column order: every non-baseline cell with buckets, and any baseline cell whose buckets do not add up. */
  cells: BucketNote[];
}

/** Buckets that changed between two cells; null unless both have buckets. */
export function bucketChanges(before: ExplainedCell, after: ExplainedCell): BucketChange[] | null {
  if (!before.explain || !after.explain) return null;
  return diffBucketLists(before.explain.buckets, after.explain.buckets);
}

/** A table's bucket notes; null when no cell of it has buckets (a run that explained nothing). */
export function whatChanged(variants: string[], rows: readonly { cells: readonly ExplainedCell[] }[]): WhatChanged | null {
  const baseline = variants[0];
  if (baseline === undefined || !rows.some((row) => row.cells.some((c) => c.explain))) return null;
  const cells: BucketNote[] = [];
  for (const row of rows) {
    const [base] = row.cells;
    row.cells.forEach((cell, j) => {
      if (!cell.explain || !base || (j === 0 && cell.explain.adds_up)) return;
      cells.push({
        workload: cell.workload,
        variant: cell.variant,
        changes: j === 0 ? null : bucketChanges(base, cell),
        addsUp: cell.explain.adds_up,
        problems: [...cell.explain.problems],
      });
    });
  }
  return { baseline, cells };
}
