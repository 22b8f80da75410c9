/**
 * What kexp explain answers, from the cells it booted (one per variant): per workload and probed
 * function, the buckets fitted per page; which variant's run has problems; and, against the first
 * variant, what changed in each of the others. Pure: the command boots the cells and prints.
 */
import type { SampleRecord } from '../records/index.js';
import { workloadLabel } from '../measure/samples.js';
import { diffBuckets, explainFunction, type BucketChange, type FunctionExplanation } from './buckets.js';
import { formatChanges, formatExplanation } from './format.js';

/** The part of a booted cell that explain reads. */
export interface ExplainedCell {
  outcome: { status: string; reason?: string; samples: SampleRecord[] };
  /** Where each probed function's parameters were read (file:line); absent: nothing was probed. */
  explained?: Record<string, string>;
  notes: string[];
}

export interface VariantExplanation {
  variant: string;
  status: string;
  reason: string | null;
  /** Where each probed function's parameters were read, file:line of the built source. */
  definitions: Record<string, string>;
  notes: string[];
  explanations: FunctionExplanation[];
}

/** Per workload and function, the buckets of one booted cell. */
export function explainCell(cell: ExplainedCell, functions: string[], depth: number): FunctionExplanation[] {
  const labels = [...new Set(cell.outcome.samples.map((s) => workloadLabel(s.workload, s.args)))];
  return labels.flatMap((label) => {
    const samples = cell.outcome.samples.filter((s) => workloadLabel(s.workload, s.args) === label);
    return functions.filter((fn) => cell.explained?.[fn]).map((fn) => explainFunction(label, fn, samples, depth));
  });
}

/** One variant's answer, and whether it is a finding: the VM run or a sample not ok (skipped is fine), or buckets that do not add up. */
export function explainVariant(
  variant: string,
  cell: ExplainedCell,
  functions: string[],
  depth: number,
): { explanation: VariantExplanation; findings: boolean } {
  const explanations = explainCell(cell, functions, depth);
  const o = cell.outcome;
  const findings = o.status !== 'ok' || o.samples.some((s) => s.status !== 'ok' && s.status !== 'skipped') || explanations.some((e) => !e.adds_up);
  return {
    explanation: { variant, status: o.status, reason: o.reason ?? null, definitions: cell.explained ?? {}, notes: cell.notes, explanations },
    findings,
  };
}

/** One function of one workload, in the first variant and in another. */
export interface ExplainChange {
  workload: string;
  function: string;
  from: string;
  to: string;
  before: FunctionExplanation;
  after: FunctionExplanation;
}

/** Every variant after the first against the first, where both explained the same workload and function. */
export function explainChanges(results: VariantExplanation[]): ExplainChange[] {
  const [base, ...others] = results;
  if (!base) return [];
  return others.flatMap((r) =>
    r.explanations.flatMap((after) => {
      const before = base.explanations.find((e) => e.workload === after.workload && e.function === after.function);
      return before ? [{ workload: after.workload, function: after.function, from: base.variant, to: r.variant, before, after }] : [];
    }),
  );
}

/** What kexp explain --json prints. */
export interface ExplainJson {
  kernel: string;
  depth: number;
  variants: VariantExplanation[];
  changes: {
    workload: string;
    function: string;
    from: string;
    to: string;
    total: { before: number | null; after: number | null };
    buckets: BucketChange[];
  }[];
}

export function explainJson(kernel: string, depth: number, results: VariantExplanation[], changes: ExplainChange[]): ExplainJson {
  return {
    kernel,
    depth,
    variants: results,
    changes: changes.map((c) => ({
      workload: c.workload,
      function: c.function,
      from: c.from,
      to: c.to,
      total: { before: c.before.total.per_page, after: c.after.total.per_page },
      buckets: diffBuckets(c.before, c.after),
    })),
  };
}

/** kexp explain's text: each variant's buckets, then what changed; one line per element. */
export function explainText(kernel: string, results: VariantExplanation[], changes: ExplainChange[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`\n${kernel}/${r.variant}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
    for (const [fn, where] of Object.entries(r.definitions)) lines.push(`  ${fn}: parameters from ${where}`);
    for (const n of r.notes) lines.push(`  note: ${n}`);
    for (const e of r.explanations) lines.push(`\n${formatExplanation(e)}`);
  }
  if (changes.length > 0) {
    lines.push('\nwhat changed:');
    for (const c of changes) lines.push(formatChanges(c.before, c.after, [c.from, c.to]).join('\n'));
  }
  return lines;
}
