import { existsSync, mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanUpUnfinishedMake, isLinkOutput, markMakeEnded, markMakeStarted, UNFINISHED_MARKER } from '../../../src/kernel/unfinished.js';

describe('isLinkOutput', () => {
  it("names the final link's files at the top of the build folder, with their .cmd files", () => {
    for (const path of [
      'vmlinux',
      'vmlinux.o',
      'vmlinux.a',
      'vmlinux.symvers',
      'vmlinux.o.map',
      '.vmlinux.o.cmd',
      '.vmlinux.cmd',
      '..vmlinux.export.o.cmd',
      '.vmlinux.export.c',
      '.vmlinux.export.o',
      '.tmp_vmlinux.kallsyms1',
      '.tmp_vmlinux.kallsyms2.o',
      '.tmp_vmlinux1',
      '.tmp_initcalls.lds',
      '.btf.vmlinux.bin.o',
      'System.map',
      'modules.builtin',
      'modules.builtin.modinfo',
      '.modules.builtin.modinfo.cmd',
      'modules.builtin.ranges',
      'built-in.a',
      '.built-in.a.cmd',
      'Module.symvers',
      'arch/x86/boot/bzImage',
      'arch/x86/boot/.bzImage.cmd',
      'arch/x86/boot/setup.elf',
      'arch/x86/boot/vmlinux.bin',
      'arch/x86/boot/zoffset.h',
      'arch/x86/boot/compressed/vmlinux',
      'arch/x86/boot/compressed/vmlinux.bin.xz',
      'arch/x86/boot/compressed/.vmlinux.bin.xz.cmd',
      'arch/x86/boot/compressed/piggy.S',
      'arch/x86/boot/compressed/piggy.o',
    ])
      expect(isLinkOutput(path), path).toBe(true);
  });

  it('leaves objects, the configuration and sources of other folders alone', () => {
    for (const path of [
      '.config',
      '.version',
      'Makefile',
      'source',
      'mm/gup.o',
      'mm/.gup.o.cmd',
      'mm/built-in.a',
      'include/generated/autoconf.h',
      'arch/x86/boot/main.o',
      'arch/x86/boot/compressed/head_64.o',
      'arch/x86/kernel/vmlinux.lds',
      'scripts/kallsyms',
    ]) {
      expect(isLinkOutput(path), path).toBe(false);
    }
  });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kexp-unfinished-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function age(dir: string, paths: string[], secondsAgo: number): void {
  const t = Date.now() / 1000 - secondsAgo;
  for (const p of paths) utimesSync(join(dir, p), t, t);
}

function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as { name: string; parentPath: string; isFile(): boolean }[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('cleanUpUnfinishedMake', () => {
  it('does nothing when the last make ended by itself', () => {
    const dir = tree({ '.config': 'x', 'vmlinux.o': 'ELF', 'mm/gup.o': 'ELF' });
    markMakeStarted(dir, 'test');
    markMakeEnded(dir);
    expect(cleanUpUnfinishedMake(dir)).toBeUndefined();
    expect(listFiles(dir)).toEqual(['.config', 'mm/gup.o', 'vmlinux.o']);
  });

  it('after a killed make: removes what it wrote since it started and the link outputs, keeps the rest', () => {
    const older = [
      '.config',
      '.version',
      'mm/gup.o',
      'mm/.gup.o.cmd',
      'mm/memory.o',
      'mm/.memory.o.cmd',
      'vmlinux.a',
      'System.map',
      'arch/x86/boot/bzImage',
      'arch/x86/boot/main.o',
    ];
    const dir = tree(Object.fromEntries(older.map((p) => [p, 'from the build before'])));
    age(dir, older, 3600);
    markMakeStarted(dir, 'test');
    age(dir, [UNFINISHED_MARKER], 60);
    // What the killed make was writing: a recompiled object (its .cmd still the old one) and vmlinux.o.
    writeFileSync(join(dir, 'mm/gup.o'), 'trunc');
    writeFileSync(join(dir, 'vmlinux.o'), 'trunc');
    mkdirSync(join(dir, 'include/generated'), { recursive: true });
    writeFileSync(join(dir, 'include/generated/compile.h'), '#define');
    const cleanup = cleanUpUnfinishedMake(dir)!;
    expect(cleanup.removed).toEqual(['System.map', 'arch/x86/boot/bzImage', 'include/generated/compile.h', 'mm/gup.o', 'vmlinux.a', 'vmlinux.o']);
    expect(new Date(cleanup.startedAt).getTime()).toBeLessThan(Date.now() - 50_000);
    expect(listFiles(dir)).toEqual(['.config', '.version', 'arch/x86/boot/main.o', 'mm/.gup.o.cmd', 'mm/.memory.o.cmd', 'mm/memory.o']);
    expect(existsSync(join(dir, UNFINISHED_MARKER))).toBe(false);
    // Once cleaned, the next build finds nothing to do.
    expect(cleanUpUnfinishedMake(dir)).toBeUndefined();
  });

  it('counts a file written in the same clock tick as the mark as written by the make', () => {
    const dir = tree({});
    markMakeStarted(dir, 'test');
    writeFileSync(join(dir, 'fork.o'), 'x');
    const t = Date.now() / 1000 - 10;
    utimesSync(join(dir, UNFINISHED_MARKER), t, t);
    utimesSync(join(dir, 'fork.o'), t, t);
    expect(cleanUpUnfinishedMake(dir)!.removed).toEqual(['fork.o']);
  });
});
