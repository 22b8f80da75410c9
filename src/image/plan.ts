/**
 * The guest plan: which workloads run, at which sizes, how often, with which collectors over which
 * functions. Encoded as a few text lines, base64, in one kernel command line parameter (the
 * image stays the same for every plan, so it is built and cached once).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../core/errors.js';
import type { CollectorName } from '../measure/samples.js';
import { planLines, type ExplainProbe } from '../explain/probes.js';

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
  /** Functions whose calls are split into buckets by in-kernel hist triggers (kexp explain). */
  explain?: ExplainProbe[];
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
  (plan.explain ?? []).forEach((probe, i) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(probe.function)) throw new InputError(`function "${probe.function}": not a kernel symbol name`);
    lines.push(...planLines(i, probe));
  });
  for (const s of expandSamples(plan)) lines.push(['sample', s.workload, s.pages, s.rep, ...s.args].join(' '));
  return `${lines.join('\n')}\n`;
}

/**
 * The plan as kernel command line parameters: `kexp.plan` (base64) while that is short,
 * `kexp.planz` (gzip, base64) when the plain form would crowd the 2048-byte command line
 * (explain's trigger lines are long and repetitive, so they compress well).
 */
export function encodePlan(plan: GuestPlan): Record<string, string> {
  const text = planText(plan);
  const plain = Buffer.from(text).toString('base64');
  if (plain.length <= 1024) return { 'kexp.plan': plain };
  return { 'kexp.planz': gzipSync(text, { level: 9 }).toString('base64') };
}

export function decodePlan(params: Record<string, string>): string {
  const z = params['kexp.planz'];
  if (z !== undefined) return gunzipSync(Buffer.from(z, 'base64')).toString('utf8');
  return Buffer.from(params['kexp.plan'] ?? '', 'base64').toString('utf8');
}
