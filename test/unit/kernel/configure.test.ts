import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuildError, EXIT } from '../../../src/core/errors.js';
import { makeFailureLines, resolveConfig, type MakeContext } from '../../../src/kernel/configure.js';

/** A folder with a Makefile: the kernel's make as far as the config stage sees it. */
function fakeTree(makefile: string): { src: string; scratch: string; ctx: MakeContext } {
  const dir = mkdtempSync(join(tmpdir(), 'kexp-configure-'));
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'Makefile'), makefile);
  const scratch = join(dir, 'kconfig');
  return { src, scratch, ctx: { src, arch: 'x86_64', cc: 'gcc', makeVariables: {}, logFile: join(dir, 'build.log') } };
}

describe("resolveConfig when the kernel's own make fails", () => {
  it('is a BuildError (exit 2) naming the tree and what make said last, not a kexp bug', async () => {
    const { src, scratch, ctx } = fakeTree(
      ['tinyconfig:', '\t@echo "scripts/kconfig/conf: some Kconfig is broken"', '\t@echo "*** Error in Kconfig" >&2', '\t@false', ''].join('\n'),
    );
    const error = await resolveConfig(ctx, scratch, new Map()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    const e = error as BuildError;
    expect(e.exitCode).toBe(EXIT.usage);
    expect(e.message).toContain(`make tinyconfig failed in the kernel source tree ${src}`);
    expect(e.message).toContain('*** Error in Kconfig');
    expect(e.hint).toContain(ctx.logFile);
  });

  it('says so when make tinyconfig succeeds but writes no .config', async () => {
    const { src, scratch, ctx } = fakeTree('tinyconfig:\n\t@true\n');
    await expect(resolveConfig(ctx, scratch, new Map())).rejects.toThrow(new RegExp(`make tinyconfig in the kernel source tree ${src} wrote no`));
  });

  it('fails olddefconfig the same way', async () => {
    const { src, scratch, ctx } = fakeTree(
      [
        'tinyconfig:',
        '\t@echo "CONFIG_A=y" > $(O)/.config',
        'olddefconfig:',
        '\t@echo "make[2]: *** [scripts/kconfig/Makefile:77: olddefconfig] Error 1"',
        '\t@exit 2',
        '',
      ].join('\n'),
    );
    const error = (await resolveConfig(ctx, scratch, new Map()).catch((e: unknown) => e)) as BuildError;
    expect(error).toBeInstanceOf(BuildError);
    expect(error.message).toContain(`make olddefconfig failed in the kernel source tree ${src}`);
    expect(error.message).toContain('olddefconfig] Error 1');
  });

  it('starts the scratch folder over after a make killed there, and keeps it after one that ended', async () => {
    const { scratch, ctx } = fakeTree(['tinyconfig:', '\t@echo "CONFIG_A=y" > $(O)/.config', 'olddefconfig:', '\t@true', ''].join('\n'));
    mkdirSync(scratch, { recursive: true });
    writeFileSync(join(scratch, 'half-linked-conf'), '');
    writeFileSync(join(scratch, '.kexp-kconfig-unfinished'), '1\n');
    const text = await resolveConfig(ctx, scratch, new Map());
    expect(text).toContain('CONFIG_A=y');
    expect(existsSync(join(scratch, 'half-linked-conf'))).toBe(false);
    expect(existsSync(join(scratch, '.kexp-kconfig-unfinished'))).toBe(false);
  });
});

describe('resolveConfig ahead of a build', () => {
  it("runs the kernel's make at the lowest CPU priority when asked", async () => {
    const { scratch, ctx } = fakeTree(['tinyconfig:', '\t@echo "CONFIG_NICENESS=$$(nice)" > $(O)/.config', 'olddefconfig:', '\t@true', ''].join('\n'));
    const own = getPriority();
    expect(await resolveConfig({ ...ctx, lowPriority: true }, scratch, new Map())).toContain(`CONFIG_NICENESS=${Math.min(19, own + 19)}\n`);
    expect(await resolveConfig(ctx, scratch, new Map())).toContain(`CONFIG_NICENESS=${own}\n`);
  });
});

describe('makeFailureLines', () => {
  it("shows make's output from the first error on, else its tail", () => {
    expect(makeFailureLines(['  HOSTCC a', 'x.c:1: error: nope', 'make: *** [x] Error 1'])).toEqual(['x.c:1: error: nope', 'make: *** [x] Error 1']);
    expect(makeFailureLines(['a', 'b', 'c'], 2)).toEqual(['b', 'c']);
  });
});
