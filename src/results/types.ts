/** The data a run leaves behind, as the report and compare stages read it. */
import type { Bucket } from '../explain/buckets.js';

export type Status = 'ok' | 'failed' | 'crashed' | 'hung' | 'skipped';
export const statuses: readonly Status[] = ['ok', 'failed', 'crashed', 'hung', 'skipped'];

/** One per-page figure of one cell (kernel × variant) for one workload and one counted function or tracepoint. */
export interface FigureRow {
  kernel: string;
  variant: string;
  /** Workload with its options, e.g. "uffd-populate --write". */
  workload: string;
  /** Kernel function (e.g. "__get_user_pages") or tracepoint ("kvm/kvm_async_pf_ready"). */
  function: string;
  status: Status;
  per_page: number | null;
  fixed: number | null;
  residual: number | null;
  reason?: string;
  flags: string[];
  /** Sample statuses over every size and repetition behind this figure. */
  statusCounts: Record<Status, number>;
  /** kexp explain: the calls split into buckets, each fitted per page (when the run explained this function). */
  explain?: ExplainSummary;
  /** A program's figure: per unit of its own {n} ("n"), or per run when it has no size ("run"); absent: per page. */
  unit?: 'n' | 'run';
  /** unit "run": the mean calls per run and their spread over the repetitions (per_page is null then). */
  per_run?: { mean: number; min: number; max: number; runs: number };
}

/** One test of a test program (a kselftest, or a program run as it is) in one cell (kernel × variant). */
export interface TestRow {
  kernel: string;
  variant: string;
  /** The program with its arguments, as the figure tables name the workload: "mm:madv_populate". */
  workload: string;
  /** The test as its TAP line names it, or the program's label when it printed no TAP. */
  test: string;
  /** Its results over every size and repetition. */
  counts: Record<TestResultStatus, number>;
  /** Runs of the program that gave no result for this test (it crashed, hung or stopped early). */
  missing: number;
  /** Distinct skip or failure reasons, at most three. */
  reasons: string[];
}

export type TestResultStatus = 'pass' | 'fail' | 'skip' | 'xfail' | 'error';

/** A figure's buckets as reports show them. */
export interface ExplainSummary {
  buckets: Bucket[];
  /** Whether the buckets add up to the collectors' total in every sample. */
  adds_up: boolean;
  problems: string[];
}

export interface ReportInput {
  runId: string;
  experiment: string;
  /** When the run started (ISO). */
  startedAt: string;
  /** complete, or incomplete (interrupted: what finished is shown, the rest is missing). */
  state: 'complete' | 'incomplete';
  /** Display order, as the experiment lists them. */
  kernels: string[];
  variants: string[];
  workloads: string[];
  rows: FigureRow[];
  /** Test programs' results (kselftests, programs run as they are), when the run had any. */
  tests?: TestRow[];
  /** Provenance lines shown under the tables (kexp version, host, accelerator, QEMU). */
  provenance: string[];
}
