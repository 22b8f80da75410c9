import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  commandRun,
  decodeArg,
  decodePlan,
  encodeArg,
  encodePlan,
  expandSamples,
  guestPaths,
  kselftestRun,
  planText,
  substituteSize,
  unresolvedPrograms,
  type GuestPlan,
} from '../../../src/image/plan.js';
import { fitSize, sizeUnitOf } from '../../../src/config/program.js';
import { guestPathProblem, locateProgram, mergeContent, parentDirs } from '../../../src/image/layer.js';
import { elfKind, scriptInterpreter } from '../../../src/core/elf.js';

const base = { repetitions: 1, collectors: ['ftrace' as const], functions: ['__get_user_pages'] };

describe("a program's size", () => {
  it('is per page with a byte suffix, per n without one, per run without {n}', () => {
    expect(sizeUnitOf(['-u', 'MISSING', '-b', '{n}M'])).toEqual({ kind: 'bytes', bytes: 1024 ** 2 });
    expect(sizeUnitOf(['--mem={n}G'])).toEqual({ kind: 'bytes', bytes: 1024 ** 3 });
    expect(sizeUnitOf(['anon', '{n}', '8'])).toEqual({ kind: 'n' });
    expect(sizeUnitOf(['{n}x'])).toEqual({ kind: 'n' });
    expect(sizeUnitOf(['-t', '1'])).toEqual({ kind: 'run' });
    expect(fitSize(2, { kind: 'bytes', bytes: 1024 ** 2 })).toBe(512);
    expect(fitSize(8, { kind: 'bytes', bytes: 1024 })).toBe(2);
    expect(fitSize(7, { kind: 'n' })).toBe(7);
    expect(fitSize(7, { kind: 'run' })).toBe(0);
    expect(substituteSize(['-b', '{n}M', 'x{n}y{n}'], 3)).toEqual(['-b', '3M', 'x3y3']);
  });

  it('makes runs: sized ones at every size, unsized ones once, {n}K only in whole pages', () => {
    expect(commandRun(['/bin/prog', '-b', '{n}M'], [1, 2])).toMatchObject({
      workload: '/bin/prog',
      args: ['-b', '{n}M'],
      sizes: [1, 2],
      command: { kind: 'command', program: '/bin/prog', dir: '/tmp' },
    });
    expect(commandRun(['ls', '/'], [64, 128]).sizes).toEqual([0]);
    expect(() => commandRun(['prog', '{n}K'], [6])).toThrow(/not a whole number of 4 KiB pages/);
    expect(() => commandRun([], [1])).toThrow(/no program/);
    expect(kselftestRun({ target: 'mm', test: 'madv_populate', args: [] }, [64])).toMatchObject({
      workload: 'mm:madv_populate',
      sizes: [0],
      command: { kind: 'kselftest', program: '', kselftest: { target: 'mm', test: 'madv_populate' } },
    });
  });
});

describe('programs in the guest plan', () => {
  it('carries every argument, %XX-encoded outside the plain characters', () => {
    for (const arg of ['plain', '', 'a b', '{n}', '100%', 'x+y', 'echo "$0" >&2; exit 3', 'ünïcode']) {
      expect(decodeArg(encodeArg(arg))).toBe(arg);
      expect(encodeArg(arg)).toMatch(/^[A-Za-z0-9_.,=:/@%-]+$/);
    }
    expect(encodeArg('')).toBe('%');
    expect(encodeArg('a+b c')).toBe('a%2Bb%20c');
  });

  it('writes exec lines with the size substituted, repetitions outermost', () => {
    const run = { ...kselftestRun({ target: 'kvm', test: 'demand_paging_test', args: ['-u', 'MISSING', '-b', '{n}M'] }, [1, 2]) };
    run.command = { ...run.command!, program: '/kselftest/kvm/demand_paging_test', dir: '/kselftest/kvm' };
    const plan: GuestPlan = { ...base, repetitions: 2, runs: [run, { workload: 'uffd-populate', args: [], sizes: [64] }] };
    const lines = planText(plan)
      .split('\n')
      .filter((l) => /^(exec|sample) /.test(l));
    expect(lines).toEqual([
      'exec 1 0 /kselftest/kvm /kselftest/kvm/demand_paging_test -u MISSING -b 1M',
      'exec 2 0 /kselftest/kvm /kselftest/kvm/demand_paging_test -u MISSING -b 2M',
      'sample uffd-populate 64 0',
      'exec 1 1 /kselftest/kvm /kselftest/kvm/demand_paging_test -u MISSING -b 1M',
      'exec 2 1 /kselftest/kvm /kselftest/kvm/demand_paging_test -u MISSING -b 2M',
      'sample uffd-populate 64 1',
    ]);
    expect(
      expandSamples(plan)
        .filter((s) => s.command)
        .map((s) => [s.size, s.pages]),
    ).toEqual([
      [1, 256],
      [2, 512],
      [1, 256],
      [2, 512],
    ]);
    expect(decodePlan(encodePlan(plan))).toBe(planText(plan));
    expect(unresolvedPrograms(plan)).toEqual([]);
  });

  it('stands programs in by name until the cell resolves them, and boot refuses such a plan', () => {
    const run = kselftestRun({ target: 'mm', test: 'madv_populate', args: [] }, [1]);
    expect(guestPaths(run.command!)).toEqual({ program: '/kselftest/mm/madv_populate', dir: '/kselftest/mm' });
    expect(guestPaths(commandRun(['stress-ng'], [1]).command!)).toEqual({ program: '/usr/bin/stress-ng', dir: '/tmp' });
    const plan: GuestPlan = { ...base, runs: [run, commandRun(['stress-ng', '--vm', '1'], [1])] };
    expect(planText(plan)).toContain('exec 0 0 /kselftest/mm /kselftest/mm/madv_populate');
    expect(unresolvedPrograms(plan)).toEqual(['mm:madv_populate', 'stress-ng']);
  });
});

describe('finding a program for the guest', () => {
  const image = new Set(['/bin/sh', '/bin/ls', '/kselftest/mm/madv_populate']);
  const host = new Set(['/usr/bin/stress-ng', '/usr/bin/ls']);
  const locate = (p: string) =>
    locateProgram(
      p,
      (x) => image.has(x),
      (x) => host.has(x),
      ['/usr/local/bin', '/usr/bin'],
    );

  it('prefers the image, then this host at the same path, else names what is missing', () => {
    expect(locate('ls')).toEqual({ where: 'image', guestPath: '/bin/ls' });
    expect(locate('/kselftest/mm/madv_populate')).toEqual({ where: 'image', guestPath: '/kselftest/mm/madv_populate' });
    expect(locate('stress-ng')).toEqual({ where: 'host', hostPath: '/usr/bin/stress-ng', guestPath: '/usr/bin/stress-ng' });
    expect(locate('/usr/bin/stress-ng')).toMatchObject({ where: 'host' });
    expect(locate('nosuch')).toMatchObject({
      where: 'missing',
      message: expect.stringMatching(
        /"nosuch" is not in the guest image \(searched \/bin, \/sbin, \/usr\/bin, \/usr\/sbin, \/usr\/local\/bin, \/usr\/local\/sbin\) and not on this host's PATH/,
      ),
    });
    expect(locate('/opt/x')).toMatchObject({ where: 'missing', message: 'program /opt/x is not in the guest image and not on this host' });
    expect(locate('bin/x')).toMatchObject({ where: 'missing', message: expect.stringMatching(/must be absolute/) });
  });

  it('layers files over one another, folders first, and refuses paths the image cannot carry', () => {
    const merged = mergeContent(
      { files: [{ guestPath: '/usr/bin/a', hostPath: '/h/a', mode: 0o755 }], links: [] },
      { files: [{ guestPath: '/kselftest/mm/t', hostPath: '/h/t', mode: 0o755 }], links: [{ guestPath: '/usr/bin/a', target: 'b' }] },
    );
    expect(merged.files.map((f) => f.guestPath)).toEqual(['/kselftest/mm/t']);
    expect(merged.links).toEqual([{ guestPath: '/usr/bin/a', target: 'b' }]);
    expect(parentDirs(['/kselftest/mm/t', '/usr/bin/a', '/opt/x/y/z'])).toEqual(['/kselftest', '/kselftest/mm', '/opt', '/opt/x', '/opt/x/y']);
    expect(guestPathProblem('/init')).toMatch(/agent/);
    expect(guestPathProblem('/a b')).toMatch(/white space/);
    expect(guestPathProblem('/a/../b')).toMatch(/\.\./);
    expect(guestPathProblem('/ok')).toBeUndefined();
  });
});

describe('ELF and scripts', () => {
  it('tells a static program from a dynamic one (busybox-static, /bin/ls of this host)', () => {
    if (existsSync('/bin/busybox')) expect(elfKind(readFileSync('/bin/busybox'))).toEqual({ elf: true, interpreter: null });
    expect(elfKind(readFileSync('/bin/ls'))).toMatchObject({ elf: true, interpreter: expect.stringMatching(/^\/lib.*ld-linux/) });
    expect(elfKind(Buffer.from('#!/bin/sh\necho\n'))).toEqual({ elf: false });
    expect(scriptInterpreter(Buffer.from('#!/bin/sh -e\necho\n'))).toBe('/bin/sh');
    expect(scriptInterpreter(Buffer.from('echo\n'))).toBeUndefined();
  });
});
