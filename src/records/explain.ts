/** kexp explain's records: a sample's calls split into groups, and a figure's buckets. */

/** How a function is probed: at its return (return value known) or at its entry. */
export type ProbeMode = 'return' | 'entry';

/** A call's nr_pages: one page, or a range. */
export type NrPagesClass = '1' | 'range';

/** The calls of one sample that share everything explain keys on. */
export interface CallGroup {
  /** Caller frames (names, innermost first, machinery dropped), up to STACK_KEPT. */
  stack: string[];
  flags: number | null;
  flagNames: string[] | null;
  pagesNull: boolean | null;
  nrPages: NrPagesClass | null;
  /** Exact return value, '>0' for a range call that got somewhere, null when not paired. */
  ret: number | '>0' | null;
  calls: number;
}

/** One function's calls in one sample, as the hist triggers counted them. */
export interface SampleExplain {
  mode: ProbeMode;
  groups: CallGroup[];
  /** Events the hist maps had no room for: any makes the sample fail. */
  dropped: number;
  problems: string[];
}

/** One group of calls over a figure's samples, fitted per page like the total. */
export interface Bucket {
  caller: string[];
  flags: string[] | null;
  flagsValue: number | null;
  pages_null: boolean | null;
  nr_pages: NrPagesClass | null;
  ret: number | '>0' | null;
  per_page: number | null;
  fixed: number | null;
  residual: number | null;
  /** Calls per sample, in sample order. */
  calls: number[];
}

/** A figure's buckets as reports show them. */
export interface ExplainSummary {
  buckets: Bucket[];
  /** Whether the buckets add up to the collectors' total in every sample. */
  adds_up: boolean;
  problems: string[];
}
