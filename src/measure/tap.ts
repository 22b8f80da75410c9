/**
 * KTAP / TAP output of a test program (the kernel's selftests print it through kselftest.h) into
 * per-test results. Pure. Only top-level result lines count; a program that printed no result
 * line at all is one test, judged by its exit status the way the kselftest runner judges it
 * (0 pass, 4 skip, anything else fail).
 *
 * Lines it knows (kselftest.h, Documentation/dev-tools/ktap.rst):
 *   TAP version 13 / KTAP version 1        the header
 *   1..N  or  1..0 # SKIP reason            the plan (N = 0 with SKIP: the whole program skipped)
 *   ok 3 name                               pass
 *   not ok 4 name                           fail
 *   ok 5 name # SKIP reason / ok 5 # SKIP reason   skip (the name may be missing)
 *   ok 6 # XFAIL reason                     expected failure (not a failure)
 *   not ok 7 # error reason                 error (a failure)
 *   ok 8 name # TODO reason                 TAP's todo (counted by its own word: pass or fail)
 *   Bail out! reason                        the program gave up: the tests not run are missing
 *   # Totals: pass:N fail:N xfail:N xpass:N skip:N error:N   kselftest's own count (checked)
 * Output without TAP in the "Testing <name>... done" lines of uffd-unit-tests is read too
 * (parseTestingLines).
 */
import { testStatuses, type TapTotals, type TestResult, type TestStatus } from '../records/index.js';

export interface TapReport {
  /** Whether any TAP at all was found (a header, a plan or a result line). */
  tap: boolean;
  results: TestResult[];
  totals: TapTotals;
  /** The plan's N, when the output has a plan. */
  planned: number | null;
  /** "1..0 # SKIP reason" or a Bail out!: the reason. */
  skipAll?: string;
  bailOut?: string;
  /** What does not add up: fewer results than planned, kselftest's Totals line disagreeing. */
  problems: string[];
}

const resultLine = /^(not ok|ok)\b[ \t]*(\d+)?[ \t]*(?:-[ \t]+)?(.*)$/;
const planLine = /^(\d+)\.\.(\d+)(?:[ \t]*#[ \t]*(.*))?$/;
const totalsLine = /^#\s*Totals:\s*(.*)$/;

export function emptyTotals(): TapTotals {
  return { pass: 0, fail: 0, skip: 0, xfail: 0, error: 0 };
}

/** Split "name # DIRECTIVE reason" at the first " # " (a "\#" in a name is an escaped hash). */
function splitDirective(rest: string): { name: string; directive?: string; reason?: string } {
  const m = /(?:^|[ \t])#[ \t]*(SKIP|TODO|XFAIL|XPASS|error)\b[ \t:]*(.*)$/i.exec(rest);
  if (!m) return { name: rest.trim() };
  const name = rest.slice(0, m.index).trim();
  const reason = m[2]!.trim();
  return { name, directive: m[1]!.toUpperCase(), ...(reason ? { reason } : {}) };
}

function statusOf(ok: boolean, directive: string | undefined): TestStatus {
  switch (directive) {
    case 'SKIP':
      return 'skip';
    case 'XFAIL':
      return 'xfail';
    case 'ERROR':
      return 'error';
    default:
      // XPASS is "ok" but unexpected: kselftest counts it apart; a TODO is judged by its word.
      return ok ? 'pass' : 'fail';
  }
}

/**
 * The line format of the mm selftests that print no TAP (uffd-unit-tests, 6.6 and later):
 *   Testing <name>... done | skipped [reason: <why>] | failed [reason: <why>]
 *   Userfaults unit tests: pass=33, skip=33, fail=0 (total=66)
 * The verdict may come on a later line when the test printed something in between; a test left
 * without a verdict (the program died) is an error.
 */
export function parseTestingLines(output: string): TapReport | undefined {
  const results: TestResult[] = [];
  const problems: string[] = [];
  let pending: string | undefined;
  let claimed: Partial<TapTotals> | undefined;
  let seen = false;
  const names = new Map<string, number>();
  const push = (name: string, status: TestStatus, reason?: string): void => {
    const n = names.get(name) ?? 0;
    names.set(name, n + 1);
    results.push({ number: results.length + 1, name: n > 0 ? `${name} (${n + 1})` : name, status, ...(reason ? { reason } : {}) });
  };
  const verdict = /(?:^|\s)(done|skipped \[reason: (.*)\]|failed \[reason: (.*)\])\s*$/;
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const summary = /^Userfaults unit tests: pass=(\d+), skip=(\d+), fail=(\d+)/.exec(line);
    if (summary) {
      claimed = { pass: Number(summary[1]), skip: Number(summary[2]), fail: Number(summary[3]) };
      continue;
    }
    const start = /^Testing (.+?)\.\.\.\s?(.*)$/.exec(line);
    const rest = start ? start[2]! : pending !== undefined ? line : undefined;
    if (start) {
      seen = true;
      if (pending !== undefined) push(pending, 'error', 'no verdict before the next test started');
      pending = start[1]!;
    }
    if (pending === undefined || rest === undefined) continue;
    const v = verdict.exec(rest);
    if (!v) continue;
    if (v[1] === 'done') push(pending, 'pass');
    else if (v[2] !== undefined) push(pending, 'skip', v[2]);
    else push(pending, 'fail', v[3]);
    pending = undefined;
  }
  if (!seen) return undefined;
  if (pending !== undefined) push(pending, 'error', 'no verdict: the program stopped during this test');
  const totals = emptyTotals();
  for (const r of results) totals[r.status]++;
  if (claimed) {
    const differ = (['pass', 'skip', 'fail'] as const).filter((k) => claimed![k] !== totals[k]);
    if (differ.length > 0)
      problems.push(
        `the program's summary says ${differ.map((k) => `${k}=${claimed![k]}`).join(', ')}, its Testing lines ${differ.map((k) => `${k}=${totals[k]}`).join(', ')}`,
      );
  }
  return { tap: false, results, totals, planned: null, problems };
}

export function parseTap(output: string): TapReport {
  const tap = parseKtap(output);
  if (tap.tap) return tap;
  return parseTestingLines(output) ?? tap;
}

function parseKtap(output: string): TapReport {
  const results: TestResult[] = [];
  const problems: string[] = [];
  let tap = false;
  let planned: number | null = null;
  let skipAll: string | undefined;
  let bailOut: string | undefined;
  let claimed: Partial<TapTotals> | undefined;
  const names = new Map<string, number>();
  // Diagnostics since the last result: what a failure's reason is made of.
  let diagnostics: string[] = [];

  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\s+\S/.test(line)) continue; // nested (sub)tests: their parent's line counts
    if (/^(TAP|KTAP) version \d+/.test(line)) {
      tap = true;
      continue;
    }
    const plan = planLine.exec(line);
    if (plan) {
      tap = true;
      planned = Number(plan[2]) - Number(plan[1]) + 1;
      if (Number(plan[2]) === 0) {
        planned = 0;
        const skip = /^SKIP\b[ \t:]*(.*)$/i.exec(plan[3] ?? '');
        if (skip) skipAll = skip[1]!.trim() || 'skipped';
      }
      continue;
    }
    const totals = totalsLine.exec(line);
    if (totals) {
      claimed = {};
      for (const [, key, value] of totals[1]!.matchAll(/(\w+):(\d+)/g)) {
        if ((testStatuses as readonly string[]).includes(key!)) claimed[key as TestStatus] = Number(value);
      }
      continue;
    }
    const bail = /^Bail out!\s*(.*)$/.exec(line);
    if (bail) {
      tap = true;
      bailOut = bail[1]!.trim() || 'bailed out';
      continue;
    }
    const result = resultLine.exec(line);
    if (result) {
      tap = true;
      const ok = result[1] === 'ok';
      const number = result[2] !== undefined ? Number(result[2]) : results.length + 1;
      const { name: described, directive, reason } = splitDirective(result[3] ?? '');
      const status = statusOf(ok, directive);
      let name = described || `test ${number}`;
      const seen = names.get(name) ?? 0;
      names.set(name, seen + 1);
      if (seen > 0) name = `${name} (${seen + 1})`;
      const why = reason ?? (status === 'fail' || status === 'error' ? diagnostics.slice(-3).join(' / ') || undefined : undefined);
      results.push({ number, name, status, ...(why ? { reason: why } : {}) });
      diagnostics = [];
      continue;
    }
    const diagnostic = /^#\s?(.*)$/.exec(line);
    if (diagnostic) {
      const text = diagnostic[1]!.trim();
      if (text) diagnostics.push(text);
    } else if (line.trim()) {
      diagnostics.push(line.trim());
    }
  }

  const totals = emptyTotals();
  for (const r of results) totals[r.status]++;
  if (planned !== null && planned > results.length && !skipAll) {
    problems.push(`${planned - results.length} of ${planned} planned tests reported no result${bailOut ? ` (Bail out! ${bailOut})` : ''}`);
  } else if (bailOut && planned === null) {
    problems.push(`Bail out! ${bailOut}`);
  }
  if (claimed) {
    const differ = testStatuses.filter((s) => claimed![s] !== undefined && claimed![s] !== totals[s]);
    if (differ.length > 0)
      problems.push(
        `the program's Totals line says ${differ.map((s) => `${s}:${claimed![s]}`).join(' ')}, its result lines ${differ.map((s) => `${s}:${totals[s]}`).join(' ')}`,
      );
  }
  return { tap, results, totals, planned, ...(skipAll ? { skipAll } : {}), ...(bailOut ? { bailOut } : {}), problems };
}

/** kselftest's exit codes (kselftest.h): what the runner makes of a program's status. */
export const KSFT_SKIP = 4;

export interface ProgramVerdict {
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  /** The results the report shows: the TAP results, or the program as one test. */
  results: TestResult[];
  totals: TapTotals;
  problems: string[];
}

/**
 * A test program's verdict from its exit status and its TAP, the kselftest runner's way: exit 0 and
 * no failing result is ok; exit 4 (KSFT_SKIP), or every result skipped, is skipped with the test's
 * own reason; anything else fails, naming the failing tests or the last words of its output.
 * `selftest` false (a plain program): exit 4 is a failure like any other non-zero status.
 */
export function judgeProgram(exit: number, output: string, options: { selftest: boolean; label: string; tail: string[] }): ProgramVerdict {
  const tap = parseTap(output);
  const lastWords = options.tail
    .filter((l) => l.trim())
    .slice(-3)
    .join(' / ');
  const results = tap.results.length > 0 ? tap.results : [programResult(exit, tap, options, lastWords)];
  const totals = emptyTotals();
  for (const r of results) totals[r.status]++;
  const failing = results.filter((r) => r.status === 'fail' || r.status === 'error');
  const base = { results, totals, problems: tap.problems };
  if (tap.results.length === 0 && failing.length > 0) {
    // No TAP result lines: the program is the one test, and its exit status the verdict.
    return {
      ...base,
      status: 'failed',
      reason: `${options.label} exited ${describeExit(exit)}${lastWords ? `: ${lastWords}` : ''}${tap.bailOut ? ` (Bail out! ${tap.bailOut})` : ''}`,
    };
  }
  if (failing.length > 0) {
    const named = failing
      .slice(0, 3)
      .map((r) => `${r.name}${r.reason ? ` (${r.reason})` : ''}`)
      .join('; ');
    return {
      ...base,
      status: 'failed',
      reason: `${failing.length} of ${results.length} tests failed: ${named}${failing.length > 3 ? '; …' : ''}${exit !== 0 ? ` (exit ${exit})` : ''}`,
    };
  }
  if (options.selftest && exit === KSFT_SKIP) return { ...base, status: 'skipped', reason: skipReason(tap, results, lastWords) };
  if (exit !== 0) return { ...base, status: 'failed', reason: `${options.label} exited ${describeExit(exit)}${lastWords ? `: ${lastWords}` : ''}` };
  if (tap.problems.length > 0 && tap.bailOut) return { ...base, status: 'failed', reason: tap.problems.join('; ') };
  if (results.length > 0 && results.every((r) => r.status === 'skip')) return { ...base, status: 'skipped', reason: skipReason(tap, results, lastWords) };
  return { ...base, status: 'ok' };
}

function programResult(exit: number, tap: TapReport, options: { selftest: boolean; label: string }, lastWords: string): TestResult {
  if (options.selftest && exit === KSFT_SKIP) return { number: 1, name: options.label, status: 'skip', reason: skipReason(tap, [], lastWords) };
  if (exit === 0) return { number: 1, name: options.label, status: tap.skipAll ? 'skip' : 'pass', ...(tap.skipAll ? { reason: tap.skipAll } : {}) };
  return { number: 1, name: options.label, status: 'fail', reason: `exit ${describeExit(exit)}${lastWords ? `: ${lastWords}` : ''}` };
}

function skipReason(tap: TapReport, results: TestResult[], lastWords: string): string {
  const reasons = [...new Set(results.filter((r) => r.status === 'skip' && r.reason).map((r) => r.reason!))];
  return tap.skipAll ?? (reasons.length > 0 ? reasons.slice(0, 3).join('; ') : lastWords || 'skipped (exit 4, KSFT_SKIP)');
}

/** "1", or "139 (killed by signal 11)" for the shell's 128+N. */
export function describeExit(exit: number): string {
  if (exit > 128 && exit < 160) return `${exit} (killed by signal ${exit - 128})`;
  if (exit === 127) return '127 (not found)';
  return String(exit);
}
