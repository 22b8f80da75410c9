/**
 * What "good" means in a bisection, as data: a comparison on a measured figure
 * ("__get_user_pages.per_page <= 2") or on the run's status ("status != crashed"). Pure.
 */
import { InputError } from '../core/errors.js';
import { type BootStatus, bootStatuses, type Figure, isStopped, type SampleRecord, testStatuses, type TestStatus } from '../records/index.js';
import type { Verdict } from './search.js';

export type Comparison = '<=' | '<' | '>=' | '>' | '==' | '!=';

export type Predicate =
  | { kind: 'figure'; target: string; field: 'per_page' | 'fixed'; op: Comparison; value: number; text: string }
  | { kind: 'status'; op: '==' | '!='; status: BootStatus; text: string }
  /** A test program's test (by its TAP name, or the program's label): its verdict over the step's runs. */
  | { kind: 'test'; test: string; op: '==' | '!='; verdict: TestVerdictName; text: string }
  /** How many test results of a status the step's test programs reported: "tests.fail == 0". */
  | { kind: 'tests'; status: TestStatus; op: Comparison; value: number; text: string };

export type TestVerdictName = 'pass' | 'fail' | 'skip' | 'missing';

const figurePattern = /^\s*([A-Za-z_][\w./-]*)\.(per_page|fixed)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;
const statusPattern = new RegExp(`^\\s*status\\s*(==|!=)\\s*(${bootStatuses.join('|')})\\s*$`);
const testPattern = /^\s*test\s+(?:"([^"]+)"|(\S+))\s*(==|!=)\s*(pass|fail|skip|missing)\s*$/;
const testsPattern = new RegExp(`^\\s*tests\\.(${testStatuses.join('|')})\\s*(<=|>=|==|!=|<|>)\\s*(\\d+)\\s*$`);

export function parsePredicate(text: string): Predicate {
  const f = figurePattern.exec(text);
  if (f) return { kind: 'figure', target: f[1]!, field: f[2] as 'per_page' | 'fixed', op: f[3] as Comparison, value: Number(f[4]), text: text.trim() };
  const s = statusPattern.exec(text);
  if (s) return { kind: 'status', op: s[1] as '==' | '!=', status: s[2] as BootStatus, text: text.trim() };
  const t = testPattern.exec(text);
  if (t) return { kind: 'test', test: t[1] ?? t[2]!, op: t[3] as '==' | '!=', verdict: t[4] as TestVerdictName, text: text.trim() };
  const n = testsPattern.exec(text);
  if (n) return { kind: 'tests', status: n[1] as TestStatus, op: n[2] as Comparison, value: Number(n[3]), text: text.trim() };
  throw new InputError(
    `--predicate: cannot read "${text}"`,
    'write what "good" means, e.g. "__get_user_pages.per_page <= 2", "kvm/kvm_async_pf_ready.per_page == 1", "status != crashed", "tests.fail == 0" or \'test "MADV_POPULATE_WRITE with PROT_WRITE" == pass\'',
  );
}

function compare(a: number, op: Comparison, b: number): boolean {
  switch (op) {
    case '<=':
      return a <= b + 1e-9;
    case '<':
      return a < b - 1e-9;
    case '>=':
      return a >= b - 1e-9;
    case '>':
      return a > b + 1e-9;
    case '==':
      return Math.abs(a - b) <= 1e-9;
    case '!=':
      return Math.abs(a - b) > 1e-9;
  }
}

/** What a judgement reads of a figure (a step's record keeps these). */
export type JudgedFigure = Pick<Figure, 'workload' | 'function' | 'status' | 'reason' | 'per_page' | 'fixed'>;

export interface StepOutcome {
  /** The kernel did not build: such a step is skipped, never judged. */
  buildError?: string;
  /** How the boot ended (ok, crashed, hung, failed). */
  status?: BootStatus;
  figures?: JudgedFigure[];
  /** The step's samples: a test program's results (what test and tests predicates read). */
  samples?: Pick<SampleRecord, 'workload' | 'args' | 'status' | 'reason' | 'tests'>[];
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
  if (predicate.kind === 'test') return judgeTest(predicate, step);
  if (predicate.kind === 'tests') return judgeTests(predicate, step);
  if (step.status !== 'ok') return { verdict: 'skip', reason: `the workload could not run: the boot ${step.status ?? 'failed'}` };
  const figure = step.figures?.find((f) => f.workload === workload && f.function === predicate.target);
  if (!figure) return { verdict: 'skip', reason: `no figure for ${predicate.target} in ${workload}` };
  if (figure.status !== 'ok' || figure[predicate.field] === null)
    return { verdict: 'skip', reason: `${predicate.target}: ${figure.status}${figure.reason ? ` (${figure.reason})` : ''}` };
  const value = figure[predicate.field]!;
  return { verdict: compare(value, predicate.op, predicate.value) ? 'good' : 'bad', reason: `${predicate.target}.${predicate.field} = ${value}`, value };
}

/**
 * One test's verdict over the step's runs: fail if any run failed it, missing if a run gave no
 * result for it (a crash or hang is not a pass), pass, or skip. Unknown in every run: skip the step.
 */
function judgeTest(predicate: Extract<Predicate, { kind: 'test' }>, step: StepOutcome): Judgement {
  const runs = (step.samples ?? []).filter((s) => s.tests || isStopped(s.status));
  const results = runs.map((s) => s.tests?.results.find((r) => r.name === predicate.test));
  if (results.every((r) => r === undefined) && (step.status === 'ok' || runs.length === 0))
    return { verdict: 'skip', reason: `no test "${predicate.test}" in this step's results` };
  const failed = results.find((r) => r?.status === 'fail' || r?.status === 'error');
  const verdict: TestVerdictName = failed
    ? 'fail'
    : results.some((r) => r === undefined)
      ? 'missing'
      : results.some((r) => r!.status === 'pass' || r!.status === 'xfail')
        ? 'pass'
        : 'skip';
  const holds = predicate.op === '==' ? verdict === predicate.verdict : verdict !== predicate.verdict;
  const why = failed?.reason ? ` (${failed.reason})` : verdict === 'missing' ? ` (the boot ${step.status ?? 'failed'})` : '';
  return { verdict: holds ? 'good' : 'bad', reason: `test "${predicate.test}": ${verdict}${why}` };
}

function judgeTests(predicate: Extract<Predicate, { kind: 'tests' }>, step: StepOutcome): Judgement {
  const withTests = (step.samples ?? []).filter((s) => s.tests);
  if (withTests.length === 0) return { verdict: 'skip', reason: `no test results${step.status && step.status !== 'ok' ? `: the boot ${step.status}` : ''}` };
  const value = withTests.reduce((n, s) => n + (s.tests!.totals[predicate.status] ?? 0), 0);
  return { verdict: compare(value, predicate.op, predicate.value) ? 'good' : 'bad', reason: `tests.${predicate.status} = ${value}`, value };
}
