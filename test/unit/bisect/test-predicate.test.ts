import { describe, expect, it } from 'vitest';
import { judge, parsePredicate } from '../../../src/bisect/predicate.js';
import type { TestResult } from '../../../src/records/index.js';

const totals = (results: TestResult[]) => {
  const t = { pass: 0, fail: 0, skip: 0, xfail: 0, error: 0 };
  for (const r of results) t[r.status]++;
  return t;
};
const run = (results: TestResult[], status: 'ok' | 'failed' | 'skipped' = results.some((r) => r.status === 'fail') ? 'failed' : 'ok') => ({
  workload: 'mm:madv_populate',
  args: [],
  status,
  tests: { results, totals: totals(results), problems: [] },
});

const passing = run([
  { number: 1, name: 'MADV_POPULATE_READ', status: 'pass' },
  { number: 2, name: 'MADV_POPULATE_WRITE', status: 'pass' },
]);
const broken = run([
  { number: 1, name: 'MADV_POPULATE_READ', status: 'pass' },
  { number: 2, name: 'MADV_POPULATE_WRITE', status: 'fail', reason: 'EFAULT' },
]);

describe('bisect predicates over test results', () => {
  it("reads a test's verdict and a count of results", () => {
    expect(parsePredicate('test "MADV_POPULATE_WRITE with PROT_WRITE" == pass')).toMatchObject({
      kind: 'test',
      test: 'MADV_POPULATE_WRITE with PROT_WRITE',
      op: '==',
      verdict: 'pass',
    });
    expect(parsePredicate('test kvm:demand_paging_test != fail')).toMatchObject({ kind: 'test', test: 'kvm:demand_paging_test', op: '!=', verdict: 'fail' });
    expect(parsePredicate('tests.fail == 0')).toMatchObject({ kind: 'tests', status: 'fail', op: '==', value: 0 });
    expect(() => parsePredicate('tests.broken == 0')).toThrow(/cannot read/);
    expect(() => parsePredicate('test x == flaky')).toThrow(/cannot read/);
  });

  it('judges a step by one test: pass is good, a failure or a crash before its result is bad', () => {
    const p = parsePredicate('test MADV_POPULATE_WRITE == pass');
    expect(judge(p, { status: 'ok', samples: [passing] }, 'mm:madv_populate')).toEqual({ verdict: 'good', reason: 'test "MADV_POPULATE_WRITE": pass' });
    expect(judge(p, { status: 'ok', samples: [broken] }, 'mm:madv_populate')).toEqual({ verdict: 'bad', reason: 'test "MADV_POPULATE_WRITE": fail (EFAULT)' });
    expect(judge(p, { status: 'crashed', samples: [{ workload: 'mm:madv_populate', args: [], status: 'crashed' }] }, 'mm:madv_populate')).toEqual({
      verdict: 'bad',
      reason: 'test "MADV_POPULATE_WRITE": missing (the boot crashed)',
    });
    expect(judge(p, { status: 'ok', samples: [run([{ number: 1, name: 'other', status: 'pass' }])] }, 'mm:madv_populate').verdict).toBe('skip');
    expect(judge(p, { buildError: 'kselftest mm:madv_populate does not build' }, 'mm:madv_populate').verdict).toBe('skip');
  });

  it('judges a step by a count of results', () => {
    const p = parsePredicate('tests.fail == 0');
    expect(judge(p, { status: 'ok', samples: [passing, passing] }, 'x')).toEqual({ verdict: 'good', reason: 'tests.fail = 0', value: 0 });
    expect(judge(p, { status: 'ok', samples: [passing, broken] }, 'x')).toEqual({ verdict: 'bad', reason: 'tests.fail = 1', value: 1 });
    expect(judge(p, { status: 'crashed', samples: [] }, 'x')).toEqual({ verdict: 'skip', reason: 'no test results: the boot crashed' });
  });
});
