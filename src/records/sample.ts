/** The sample record: one run of one workload (or program) at one size, as a cell saves it. */
import type { CountSource } from './collectors.js';
import type { SampleExplain } from './explain.js';
import type { SampleStatus, TestStatus } from './status.js';

/** The workload's own report of its run, as the agent passed it on. */
export interface WorkloadResult {
  workload?: string;
  pages?: number;
  ok: boolean;
  /** The workload could not run here (e.g. no nested KVM): neither a pass nor a failure. */
  skipped?: boolean;
  error?: string | null;
  [key: string]: unknown;
}

/** A program run as the sample (kexp boot -- CMD, a kselftest): what ran and what it said. */
export interface ProgramRun {
  kind: 'command' | 'kselftest';
  /** The program as the guest ran it, and its arguments ({n} replaced). */
  program: string;
  argv: string[];
  exit: number;
  /** The last lines it wrote: stdout's, then stderr's. */
  tail: string[];
  stdoutBytes: number;
  stderrBytes: number;
  /** Whole output (as far as the guest kept it), beside the cell's console.log. */
  outputFile?: string;
}

export interface TestResult {
  /** The test's number in the program's output (1-based). */
  number: number;
  /** Its description; "test <number>" when the line has none. Unique within one program. */
  name: string;
  status: TestStatus;
  /** The directive's words (a skip's reason) or, for a failure, the last diagnostic lines before it. */
  reason?: string;
}

export type TapTotals = Record<TestStatus, number>;

/** A program's per-test results: its KTAP/TAP lines, or the program as one test. */
export interface SampleTests {
  results: TestResult[];
  totals: TapTotals;
  problems: string[];
}

/** What a figure is per: a page, one unit of a program's {n}, or one run (a program without a size). */
export type FigureUnit = 'page' | 'n' | 'run';

export interface SampleRecord {
  workload: string;
  args: string[];
  pages: number;
  rep: number;
  status: SampleStatus;
  reason?: string;
  counts: Partial<Record<CountSource, Record<string, number>>>;
  result: WorkloadResult | null;
  /** What a collector could not count (perf's "<not supported>", ...): said, not fatal. */
  notes?: string[];
  /** kexp explain: each probed function's calls split into groups (decoded from `hist`). */
  explain?: Record<string, SampleExplain>;
  /** The agent's raw hist files by probe index, until the cell decodes them into `explain`. */
  hist?: Record<string, string>;
  /** A program's run, and its tests' results. */
  program?: ProgramRun;
  tests?: SampleTests;
  /** What `pages` counts (absent: pages); a program's value of {n} is `size`. */
  unit?: FigureUnit;
  size?: number;
}
