// Fixtures in fixtures/tap/: the stdout of kernel selftests as kexp's guest agent captured it
// (kexp boot --kernel 6.1 --kselftest ..., under TCG, Debian's linux-source-6.1 built by kexp).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeExit, judgeProgram, parseTap } from '../../../src/measure/tap.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/tap/${name}`, import.meta.url), 'utf8');

describe('KTAP / TAP', () => {
  it('reads madv_populate (6.1): 16 results, plan and Totals agreeing', () => {
    const tap = parseTap(fixture('madv_populate-6.1.stdout'));
    expect(tap.tap).toBe(true);
    expect(tap.planned).toBe(16);
    expect(tap.results).toHaveLength(16);
    expect(tap.totals).toEqual({ pass: 16, fail: 0, skip: 0, xfail: 0, error: 0 });
    expect(tap.results[0]).toEqual({ number: 1, name: 'MADV_POPULATE_READ with PROT_READ', status: 'pass' });
    expect(tap.problems).toEqual([]);
    // The same description twice ("range initially not populated") stays two tests.
    expect(tap.results.filter((r) => r.name.startsWith('range initially not populated')).map((r) => r.name)).toEqual([
      'range initially not populated',
      'range initially not populated (2)',
    ]);
  });

  it('reads a whole-program skip: 1..0 # SKIP reason (soft-dirty, 6.1)', () => {
    const tap = parseTap(fixture('soft-dirty-6.1-skipall.stdout'));
    expect(tap).toMatchObject({ tap: true, planned: 0, skipAll: 'soft-dirty is not support', results: [], problems: [] });
  });

  it('knows every result line kselftest.h prints', () => {
    const tap = parseTap(
      [
        'TAP version 13',
        '1..7',
        'ok 1 first',
        'not ok 2 second',
        '# the reason it failed',
        'not ok 3 third',
        'ok 4 # SKIP no hugetlb',
        'ok 5 named # SKIP: not here',
        'ok 6 # XFAIL expected',
        'not ok 7 # error broken',
        '# Totals: pass:1 fail:2 xfail:1 xpass:0 skip:2 error:1',
      ].join('\n'),
    );
    expect(tap.results.map((r) => [r.number, r.name, r.status, r.reason])).toEqual([
      [1, 'first', 'pass', undefined],
      [2, 'second', 'fail', undefined],
      [3, 'third', 'fail', 'the reason it failed'],
      [4, 'test 4', 'skip', 'no hugetlb'],
      [5, 'named', 'skip', 'not here'],
      [6, 'test 6', 'xfail', 'expected'],
      [7, 'test 7', 'error', 'broken'],
    ]);
    expect(tap.problems).toEqual([]);
  });

  it('says when results are missing, or the Totals line disagrees', () => {
    const cut = parseTap('TAP version 13\n1..4\nok 1 a\nok 2 b\nBail out! mmap failed\n');
    expect(cut.bailOut).toBe('mmap failed');
    expect(cut.problems).toEqual(['2 of 4 planned tests reported no result (Bail out! mmap failed)']);
    expect(parseTap('1..1\nok 1 a\n# Totals: pass:2 fail:0\n').problems).toEqual(["the program's Totals line says pass:2, its result lines pass:1"]);
    // Nested subtests are their parent's business.
    expect(parseTap('1..1\n    ok 1 sub\nok 1 parent\n').results).toHaveLength(1);
  });

  it('finds no TAP in a program that prints none', () => {
    expect(parseTap(fixture('demand_paging_test-6.1.stdout'))).toMatchObject({ tap: false, results: [], planned: null });
  });
});

describe("a test program's verdict", () => {
  const selftest = (label: string, tail: string[] = []) => ({ selftest: true, label, tail });

  it('passes madv_populate with its 16 results', () => {
    const v = judgeProgram(0, fixture('madv_populate-6.1.stdout'), selftest('mm:madv_populate'));
    expect(v).toMatchObject({ status: 'ok', totals: { pass: 16, fail: 0 } });
  });

  it('makes a program without TAP one test, passed by exit 0', () => {
    const v = judgeProgram(0, fixture('demand_paging_test-6.1.stdout'), selftest('kvm:demand_paging_test'));
    expect(v.status).toBe('ok');
    expect(v.results).toEqual([{ number: 1, name: 'kvm:demand_paging_test', status: 'pass' }]);
  });

  it("skips on KSFT_SKIP (exit 4) with the test's own words (gup_test without debugfs, 6.1)", () => {
    const out = fixture('gup_test-6.1-skip.stdout');
    const v = judgeProgram(4, out, selftest('mm:gup_test', out.split('\n')));
    expect(v).toMatchObject({ status: 'skipped', reason: 'mount debugfs at /sys/kernel/debug' });
    expect(v.results[0]).toMatchObject({ status: 'skip', reason: 'mount debugfs at /sys/kernel/debug' });
  });

  it('skips a whole-program SKIP plan with its reason, never passes it', () => {
    const v = judgeProgram(4, fixture('soft-dirty-6.1-skipall.stdout'), selftest('mm:soft-dirty'));
    expect(v).toMatchObject({ status: 'skipped', reason: 'soft-dirty is not support' });
    expect(judgeProgram(0, '1..0 # SKIP no feature\n', selftest('x')).status).toBe('skipped');
  });

  it('fails on a non-zero exit with the tail of the output (userfaultfd on tinyconfig, 6.1)', () => {
    const v = judgeProgram(
      1,
      fixture('userfaultfd-6.1-fail.stdout'),
      selftest('mm:userfaultfd', ['testing uffd-wp with pagemap (pgsize=4096):', 'ERROR: madvise(MADV_NOHUGEPAGE) failed (errno=22, line=1490)']),
    );
    expect(v.status).toBe('failed');
    expect(v.reason).toBe(
      'mm:userfaultfd exited 1: testing uffd-wp with pagemap (pgsize=4096): / ERROR: madvise(MADV_NOHUGEPAGE) failed (errno=22, line=1490)',
    );
    expect(v.results).toMatchObject([{ name: 'mm:userfaultfd', status: 'fail' }]);
  });

  it('fails a program whose TAP has a failure even when it exits 0, naming the test', () => {
    const v = judgeProgram(0, '1..2\nok 1 a\nnot ok 2 b\n', selftest('t'));
    expect(v).toMatchObject({ status: 'failed', reason: '1 of 2 tests failed: b' });
  });

  it('treats exit 4 of a plain program as a failure, not a skip', () => {
    expect(judgeProgram(4, '', { selftest: false, label: 'prog', tail: [] })).toMatchObject({ status: 'failed', reason: 'prog exited 4' });
    expect(describeExit(139)).toBe('139 (killed by signal 11)');
    expect(describeExit(127)).toBe('127 (not found)');
  });
});

describe('the "Testing ... done" lines of uffd-unit-tests (6.12, captured in the guest)', () => {
  it('reads 66 tests: 33 done, 33 skipped with their reasons, matching the summary line', () => {
    const tap = parseTap(fixture('uffd-unit-tests-6.12.stdout'));
    expect(tap.tap).toBe(false);
    expect(tap.results).toHaveLength(66);
    expect(tap.totals).toEqual({ pass: 33, fail: 0, skip: 33, xfail: 0, error: 0 });
    expect(tap.problems).toEqual([]);
    expect(tap.results[0]).toEqual({ number: 1, name: 'UFFDIO_API (with syscall)', status: 'pass' });
    expect(tap.results.find((r) => r.name === 'move-pmd on anon')).toMatchObject({ status: 'skip', reason: 'CONFIG_TRANSPARENT_HUGEPAGE is not set' });
    expect(judgeProgram(0, fixture('uffd-unit-tests-6.12.stdout'), { selftest: true, label: 'mm:uffd-unit-tests', tail: [] })).toMatchObject({
      status: 'ok',
      totals: { pass: 33, skip: 33 },
    });
  });

  it('takes a verdict that comes lines later, and makes a test without one an error', () => {
    const tap = parseTap('Testing a on anon... done\nTesting b on anon... some output\nmore\nfailed [reason: EFAULT]\nTesting c on anon... \n');
    expect(tap.results.map((r) => [r.name, r.status, r.reason])).toEqual([
      ['a on anon', 'pass', undefined],
      ['b on anon', 'fail', 'EFAULT'],
      ['c on anon', 'error', 'no verdict: the program stopped during this test'],
    ]);
    expect(parseTap('Testing a... done\nUserfaults unit tests: pass=2, skip=0, fail=0 (total=2)\n').problems).toEqual([
      "the program's summary says pass=2, its Testing lines pass=1",
    ]);
    const v = judgeProgram(1, 'Testing x... failed [reason: stats check error]\n', { selftest: true, label: 'mm:uffd-unit-tests', tail: [] });
    expect(v).toMatchObject({ status: 'failed', reason: '1 of 1 tests failed: x (stats check error) (exit 1)' });
  });
});
