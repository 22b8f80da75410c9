/**
 * The guest plan: which workloads run, at which sizes, how often, with which collectors over which
 * functions. Encoded as a few text lines, base64, in one kernel command line parameter (the
 * image stays the same for every plan, so it is built and cached once).
 */
import { InputError } from '../core/errors.js';
import type { CollectorName } from '../measure/samples.js';

export interface WorkloadRun {
  workload: string;
  args: string[];
  sizes: number[];
}

export interface GuestPlan {
  runs: WorkloadRun[];
  repetitions: number;
  collectors: CollectorName[];
  functions: string[];
  /** Tracepoints (group/name) counted in the kernel for every sample. */
  events?: string[];
}

export interface PlannedSample {
  workload: string;
  args: string[];
  pages: number;
  rep: number;
}

/** Repetitions outermost, so that a hang late in a boot still leaves a complete first round. */
export function expandSamples(plan: GuestPlan): PlannedSample[] {
  const samples: PlannedSample[] = [];
  for (let rep = 0; rep < plan.repetitions; rep++) {
    for (const run of plan.runs) for (const pages of run.sizes) samples.push({ workload: run.workload, args: run.args, pages, rep });
  }
  return samples;
}

const token = /^[A-Za-z0-9_.,=+:/-]+$/;

export function planText(plan: GuestPlan): string {
  for (const fn of plan.functions) if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(fn)) throw new InputError(`function "${fn}": not a kernel symbol name`);
  for (const run of plan.runs) {
    for (const part of [run.workload, ...run.args]) {
      if (!token.test(part)) throw new InputError(`workload "${run.workload}": "${part}" has characters the guest plan cannot carry (use letters, digits and _.,=+:/-)`);
    }
  }
  for (const event of plan.events ?? []) if (!/^[\w-]+\/[\w-]+$/.test(event)) throw new InputError(`tracepoint "${event}": expected group/name, e.g. kvm/kvm_async_pf_ready`);
  const lines = [`funcs ${plan.functions.join(' ')}`, `collect ${plan.collectors.join(' ')}`];
  if (plan.events && plan.events.length > 0) lines.push(`events ${plan.events.join(' ')}`);
  for (const s of expandSamples(plan)) lines.push(['sample', s.workload, s.pages, s.rep, ...s.args].join(' '));
  return `${lines.join('\n')}\n`;
}

export function encodePlan(plan: GuestPlan): string {
  return Buffer.from(planText(plan)).toString('base64');
}

export function decodePlan(encoded: string): string {
  return Buffer.from(encoded, 'base64').toString('utf8');
}
