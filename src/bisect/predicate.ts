/**
 * What "good" means in a bisection, as data: a comparison on a measured figure
 * ("__get_user_pages.per_page <= 2") or on the run's status ("status != crashed"). Pure.
 */
import { InputError } from '../core/errors.js';
import type { Figure } from '../measure/figures.js';
import type { Verdict } from './search.js';

export type Comparison = '<=' | '<' | '>=' | '>' | '==' | '!=';

export type Predicate =
  | { kind: 'figure'; target: string; field: 'per_page' | 'fixed'; op: Comparison; value: number; text: string }
  | { kind: 'status'; op: '==' | '!='; status: 'ok' | 'failed' | 'crashed' | 'hung'; text: string };

const figurePattern = /^\s*([A-Za-z_][\w./-]*)\.(per_page|fixed)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;
const statusPattern = /^\s*status\s*(==|!=)\s*(ok|failed|crashed|hung)\s*$/;

export function parsePredicate(text: string): Predicate {
  const f = figurePattern.exec(text);
  if (f) return { kind: 'figure', target: f[1]!, field: f[2] as 'per_page' | 'fixed', op: f[3] as Comparison, value: Number(f[4]), text: text.trim() };
  const s = statusPattern.exec(text);
  if (s) return { kind: 'status', op: s[1] as '==' | '!=', status: s[2] as 'ok' | 'failed' | 'crashed' | 'hung', text: text.trim() };
  throw new InputError(`--predicate: cannot read "${text}"`, 'write what "good" means, e.g. "__get_user_pages.per_page <= 2", "kvm/kvm_async_pf_ready.per_page == 1" or "status != crashed"');
}

function compare(a: number, op: Comparison, b: number): boolean {
  switch (op) {
    case '<=': return a <= b + 1e-9;
    case '<': return a < b - 1e-9;
    case '>=': return a >= b - 1e-9;
    case '>': return a > b + 1e-9;
    case '==': return Math.abs(a - b) <= 1e-9;
    case '!=': return Math.abs(a - b) > 1e-9;
  }
}

export interface StepOutcome {
  /** The kernel did not build: such a step is skipped, never judged. */
  buildError?: string;
  /** How the boot ended (ok, crashed, hung, failed). */
  status?: 'ok' | 'failed' | 'crashed' | 'hung';
  figures?: Figure[];
}

export interface Judgement {
  verdict: Verdict;
  reason: string;
  value?: number;
}

export function judge(predicate: Predicate, step: StepOutcome, workload: string): Judgement {
  if (step.buildError) return { verdict: 'skip', reason: `does not build: ${step.buildError.split('\n')[0]}` };
  if (predicate.kind === 'status') {
    const status = step.status ?? 'failed';
    const holds = predicate.op === '==' ? status === predicate.status : status !== predicate.status;
    return { verdict: holds ? 'good' : 'bad', reason: `status ${status}` };
  }
  if (step.status !== 'ok') return { verdict: 'skip', reason: `the workload could not run: the boot ${step.status ?? 'failed'}` };
  const figure = step.figures?.find((f) => f.workload === workload && f.function === predicate.target);
  if (!figure) return { verdict: 'skip', reason: `no figure for ${predicate.target} in ${workload}` };
  if (figure.status !== 'ok' || figure[predicate.field] === null) return { verdict: 'skip', reason: `${predicate.target}: ${figure.status}${figure.reason ? ` (${figure.reason})` : ''}` };
  const value = figure[predicate.field]!;
  return { verdict: compare(value, predicate.op, predicate.value) ? 'good' : 'bad', reason: `${predicate.target}.${predicate.field} = ${value}`, value };
}
