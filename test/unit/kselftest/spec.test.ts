// Fixtures: the selftest Makefiles of Debian's linux-source-6.1 (tools/testing/selftests/vm) and
// linux-source-6.12 (mm, kvm), copied unchanged.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kselftestLabel, parseKselftestSpec } from '../../../src/config/kselftest.js';
import { describeKnown, matchProgram, parseMakefileLists, targetCandidates } from '../../../src/kselftest/spec.js';
import { compilerLines, kselftestKey } from '../../../src/kselftest/build.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('TARGET:TEST', () => {
  it('splits the target, the test and its arguments, keeping {n}', () => {
    expect(parseKselftestSpec('mm:madv_populate')).toEqual({ target: 'mm', test: 'madv_populate', args: [] });
    expect(parseKselftestSpec('kvm:demand_paging_test -u MISSING -b {n}M')).toEqual({
      target: 'kvm',
      test: 'demand_paging_test',
      args: ['-u', 'MISSING', '-b', '{n}M'],
    });
    expect(parseKselftestSpec('kvm:x86_64/xapic_state_test')).toMatchObject({ test: 'x86_64/xapic_state_test' });
    expect(kselftestLabel({ target: 'mm', test: 'uffd-unit-tests' })).toBe('mm:uffd-unit-tests');
  });

  it('refuses what is not TARGET:TEST, saying what would be', () => {
    for (const bad of ['madv_populate', 'mm:', ':x', 'mm:../x', 'm m:x', '../mm:x']) {
      expect(() => parseKselftestSpec(bad)).toThrow(/is not TARGET:TEST/);
    }
  });

  it('finds the mm selftests under their 6.1 name too', () => {
    expect(targetCandidates('mm')).toEqual(['mm', 'vm']);
    expect(targetCandidates('kvm')).toEqual(['kvm']);
  });
});

describe('selftest Makefile lists', () => {
  it('reads 6.1 vm: TEST_GEN_FILES and TEST_GEN_PROGS, not scripts or make expressions', () => {
    const { programs } = parseMakefileLists(fixture('vm-6.1.Makefile'));
    expect(programs).toContain('madv_populate');
    expect(programs).toContain('userfaultfd');
    expect(programs).toContain('soft-dirty');
    expect(programs).not.toContain('run_vmtests.sh');
    expect(programs.some((p) => p.includes('$'))).toBe(false);
    expect(programs).not.toContain('uffd-unit-tests');
  });

  it('reads 6.12 mm: uffd-unit-tests, uffd-stress, gup_test, madv_populate', () => {
    const { programs, includes } = parseMakefileLists(fixture('mm-6.12.Makefile'));
    for (const p of ['uffd-unit-tests', 'uffd-stress', 'gup_test', 'madv_populate', 'cow']) expect(programs).toContain(p);
    expect(includes).toContain('local_config.mk');
  });

  it("reads 6.12 kvm: the x86_64 lists, and no other architecture's", () => {
    const { programs } = parseMakefileLists(fixture('kvm-6.12.Makefile'));
    expect(programs).toContain('demand_paging_test');
    expect(programs).toContain('x86_64/xapic_state_test');
    expect(programs).toContain('x86_64/nx_huge_pages_test');
    expect(programs).not.toContain('aarch64/page_fault_test');
    expect(programs).not.toContain('s390x/memop');
    expect(programs.filter((p) => p === 'demand_paging_test')).toHaveLength(1);
  });

  it('joins continued lines and ignores comments', () => {
    const { programs } = parseMakefileLists('TEST_GEN_PROGS := a \\\n  b\n# TEST_GEN_PROGS += c\nTEST_GEN_FILES += d # e\nTEST_PROGS := f.sh\n');
    expect(programs).toEqual(['a', 'b', 'd']);
  });

  it('matches a test by its whole name, or by the base name when only one program has it', () => {
    const programs = ['demand_paging_test', 'x86_64/xapic_state_test', 'x86_64/dup', 'other/dup'];
    expect(matchProgram('demand_paging_test', programs)).toBe('demand_paging_test');
    expect(matchProgram('xapic_state_test', programs)).toBe('x86_64/xapic_state_test');
    expect(matchProgram('dup', programs)).toBeUndefined();
    expect(matchProgram('nosuch', programs)).toBeUndefined();
    expect(describeKnown(['b', 'a', 'c'], 2)).toBe('a, b, … (3 in all)');
  });
});

describe('kselftest builds', () => {
  it('keys a program by source, patches, folder, program and compiler', () => {
    const base = { sourceId: 'tar-1', patchDiffs: [], dir: 'mm', program: 'madv_populate', compiler: 'gcc 12' };
    const key = kselftestKey(base);
    expect(kselftestKey({ ...base })).toBe(key);
    expect(kselftestKey({ ...base, patchDiffs: ['d1'] })).not.toBe(key);
    expect(kselftestKey({ ...base, program: 'gup_test' })).not.toBe(key);
    expect(kselftestKey({ ...base, compiler: 'gcc 13' })).not.toBe(key);
  });

  it("shows the compiler's last lines from the first error on", () => {
    const tail = [
      'make: Entering directory',
      'gcc -Wall madv_populate.c',
      "madv_populate.c:12:1: error: expected ';' before '}' token",
      '   12 | }',
      'make: *** [../lib.mk:222: /out/madv_populate] Error 1',
    ];
    expect(compilerLines(tail)).toEqual(tail.slice(2));
    expect(compilerLines(['a', 'b'])).toEqual(['a', 'b']);
  });
});
