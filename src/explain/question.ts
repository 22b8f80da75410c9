/**
 * What kexp explain asks of a kernel: the guest plan its cells run. The kprobe collector counts
 * each probed function's total in the same window as the hist triggers, so the buckets can be
 * checked to add up to it; the other collectors would only add noise to an explain boot.
 */
import type { GuestPlan, WorkloadRun } from '../image/plan.js';

export interface ExplainQuestion {
  runs: WorkloadRun[];
  repetitions: number;
  /** The functions to probe and split into buckets. */
  functions: string[];
}

export function explainPlan(question: ExplainQuestion): GuestPlan {
  return { runs: question.runs, repetitions: question.repetitions, collectors: ['kprobe'], functions: question.functions };
}
