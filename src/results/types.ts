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
}

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
  /** Provenance lines shown under the tables (kexp version, host, accelerator, QEMU). */
  provenance: string[];
}
