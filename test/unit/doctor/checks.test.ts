import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { baseChecks, formatReport, installCommand, isStaticElf, missingPackages, sourcePackageChecks, type CheckResult } from '../../../src/doctor/checks.js';

describe('doctor checks', () => {
  it('asks for every prerequisite the kernel and image stages use', () => {
    const packages = baseChecks().map((c) => c.debianPackage);
    for (const p of [
      'qemu-system-x86',
      'gcc',
      'make',
      'flex',
      'bison',
      'bc',
      'libelf-dev',
      'libssl-dev',
      'cpio',
      'xz-utils',
      'busybox-static',
      'ccache',
      'util-linux',
    ]) {
      expect(packages).toContain(p);
    }
  });

  it('turns failed checks into one install command, without duplicates', () => {
    const checks = [...baseChecks(), ...sourcePackageChecks(['linux-source-6.1', 'linux-source-6.1'])];
    const results: CheckResult[] = checks.map((check) => ({ check, ok: !['flex', 'bison', 'linux-source-6.1'].includes(check.name), detail: 'x' }));
    expect(missingPackages(results)).toEqual(['bison', 'flex', 'linux-source-6.1']);
    expect(installCommand(missingPackages(results))).toBe('apt-get install -y --no-install-recommends bison flex linux-source-6.1');
    const report = formatReport(results);
    expect(report).toMatch(/FAIL flex\s+x — install: apt-get install flex/);
    expect(report).toContain('kexp doctor --fix');
  });

  it('tells a static ELF from a dynamic one (Debian busybox-static vs busybox)', () => {
    // /bin/sh (dash) is dynamically linked on every Debian system.
    expect(isStaticElf(readFileSync('/bin/sh').subarray(0, 4096))).toBe(false);
    const elf = Buffer.alloc(64 + 56);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf[4] = 2;
    elf[5] = 1;
    elf.writeBigUInt64LE(64n, 32);
    elf.writeUInt16LE(56, 54);
    elf.writeUInt16LE(1, 56);
    elf.writeUInt32LE(1, 64); // PT_LOAD only
    expect(isStaticElf(elf)).toBe(true);
    elf.writeUInt32LE(3, 64); // PT_INTERP
    expect(isStaticElf(elf)).toBe(false);
    expect(isStaticElf(Buffer.from('#!/bin/sh\n'))).toBeUndefined();
  });
});
