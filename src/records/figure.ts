/** The figures a run leaves behind: a cell's fitted figure, and the rows the report and comparison read. */
import type { CountSource } from './collectors.js';
import type { ExplainSummary } from './explain.js';
import type { FigureUnit } from './sample.js';
import type { SampleStatus, Status, TestStatus } from './status.js';

/** A least-squares line calls = fixed + perPage × pages over a figure's samples. */
export interface Fit {
  perPage: number;
  fixed: number;
  /** Root mean square of (observed − fitted) over the points. */
  residual: number;
  points: number;
  sizes: number;
  /** Why the figure should not be trusted as it stands, empty when it is clean. */
  flags: string[];
}

/** A program without a size: calls per run, and their spread over the repetitions. */
export interface PerRun {
  mean: number;
  min: number;
  max: number;
  runs: number;
}

/** One cell's figure for one workload (with its options) and one counted function. */
export interface Figure {
  workload: string;
  function: string;
  status: SampleStatus;
  reason?: string;
  per_page: number | null;
  fixed: number | null;
  residual: number | null;
  /** Each collector's own fit; untraceable functions are absent with a note. */
  collectors: Partial<Record<CountSource, Fit | { error: string }>>;
  flags: string[];
  samples: number;
  /** Absent: per page. "n": per unit of a program's {n}. "run": per run (see per_run). */
  unit?: FigureUnit;
  /** A program without a size: calls per run, and their spread over the repetitions. */
  per_run?: PerRun;
}

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
  per_run?: PerRun;
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
  counts: Record<TestStatus, number>;
  /** Runs of the program that gave no result for this test (it crashed, hung or stopped early). */
  missing: number;
  /** Distinct skip or failure reasons, at most three. */
  reasons: string[];
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
