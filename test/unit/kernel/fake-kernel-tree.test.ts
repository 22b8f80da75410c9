/**
 * The fake kernel tree of the orchestration tests (test/helpers/fake-kernel-tree.ts) is a kernel
 * tree to kexp's checks, and its Makefile does what the kernel stage asks of a real one: config
 * targets and bzImage with O=, failing on demand as gcc and kconfig fail.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { kernelSeriesOf, kernelTreeProblem } from '../../../src/config/kernel-tree.js';
import { FAKE_COMPILE_ERROR, FAKE_DROPPED_SYMBOL, writeFakeKernelTree } from '../../helpers/fake-kernel-tree.js';
import { scratchFolders } from '../../helpers/scratch.js';

const scratch = scratchFolders('kexp-fake-tree');
const make = (tree: string, out: string, target: string) =>
  execa('make', ['-C', tree, `O=${out}`, 'ARCH=x86_64', 'CC=gcc', target], { reject: false, all: true });

describe('the fake kernel tree', () => {
  it("passes kexp's kernel tree check, with the series of its Makefile", () => {
    const tree = writeFakeKernelTree(scratch('linux'), { series: '6.1' });
    expect(kernelTreeProblem(tree)).toBeUndefined();
    expect(kernelSeriesOf(tree)).toBe('6.1');
  });

  it('writes a .config, keeps the settings added to it at olddefconfig, and builds a bzImage and System.map in O=', async () => {
    const tree = writeFakeKernelTree(scratch('linux'), { buildSeconds: 0 });
    const out = scratch('out');
    expect((await make(tree, out, 'tinyconfig')).exitCode).toBe(0);
    writeFileSync(join(out, '.config'), `${readFileSync(join(out, '.config'), 'utf8')}CONFIG_${FAKE_DROPPED_SYMBOL}=y\n`);
    expect((await make(tree, out, 'olddefconfig')).exitCode).toBe(0);
    expect(readFileSync(join(out, '.config'), 'utf8')).toContain(`CONFIG_${FAKE_DROPPED_SYMBOL}=y`);
    const build = await make(tree, out, 'bzImage');
    expect(build.exitCode).toBe(0);
    expect(build.all).toMatch(/^\s+CC\s+mm\/gup\.o$/m);
    expect(existsSync(join(out, 'arch/x86/boot/bzImage'))).toBe(true);
    expect(existsSync(join(out, 'System.map'))).toBe(true);
  });

  it('fail: build prints the compiler error on stderr and make exits 2, with no bzImage', async () => {
    const tree = writeFakeKernelTree(scratch('linux'), { fail: 'build', buildSeconds: 0 });
    const out = scratch('out');
    await make(tree, out, 'tinyconfig');
    const build = await make(tree, out, 'bzImage');
    expect(build.exitCode).toBe(2);
    expect(build.stderr).toContain(FAKE_COMPILE_ERROR);
    expect(existsSync(join(out, 'arch/x86/boot/bzImage'))).toBe(false);
  });

  it('fail: olddefconfig drops the setting, as kconfig drops one whose dependencies are not met', async () => {
    const tree = writeFakeKernelTree(scratch('linux'), { fail: 'olddefconfig' });
    const out = scratch('out');
    await make(tree, out, 'tinyconfig');
    writeFileSync(join(out, '.config'), `CONFIG_${FAKE_DROPPED_SYMBOL}=y\n`);
    expect((await make(tree, out, 'olddefconfig')).exitCode).toBe(0);
    const config = readFileSync(join(out, '.config'), 'utf8');
    expect(config).not.toContain(`CONFIG_${FAKE_DROPPED_SYMBOL}=y`);
    expect(config).toContain(`# CONFIG_${FAKE_DROPPED_SYMBOL} is not set`);
  });
});
