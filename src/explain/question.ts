/**
 * What kexp explain asks of a kernel: the functions it probes, how strictly, and the guest plan
 * its cells run. The kprobe collector counts each probed function's total in the same window as
 * the hist triggers, so the buckets can be checked to add up to it; the other collectors would
 * only add noise to an explain boot.
 */
import type { GuestPlan, WorkloadRun } from '../image/plan.js';

export interface ExplainQuestion {
  plan: GuestPlan;
  /** The functions to probe and split into buckets. */
  functions: string[];
  /** Functions the user named must be probed; the defaults may be missing from a kernel (said in a note). */
  strict: boolean;
}

/** The question for `runs`, repeated `repetitions` times, about the functions `named` (else `defaults`). */
export function explainQuestion(runs: WorkloadRun[], repetitions: number, named: string[] | undefined, defaults: string[]): ExplainQuestion {
  const functions = named ?? defaults;
  return { plan: { runs, repetitions, collectors: ['kprobe'], functions }, functions, strict: named !== undefined };
}
