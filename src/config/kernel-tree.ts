/** A developer's own kernel tree as input: whether a folder is one, and its series. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Why a folder is not a kernel source tree, or undefined: kexp wants to know before any build.
 * Pure but for reading the folder's top Makefile.
 */
export function kernelTreeProblem(dir: string): string | undefined {
  if (!existsSync(dir)) return 'does not exist';
  if (!statSync(dir).isDirectory()) return 'is not a folder';
  const makefile = join(dir, 'Makefile');
  if (!existsSync(makefile)) return 'has no Makefile: it is not a kernel source tree';
  const head = readFileSync(makefile, 'utf8').slice(0, 4096);
  if (!/^VERSION = \d+$/m.test(head) || !/^PATCHLEVEL = \d+$/m.test(head))
    return 'has a Makefile without "VERSION = " and "PATCHLEVEL = " lines: it is not a kernel source tree';
  for (const needed of ['Kconfig', 'arch/x86/Kconfig', 'scripts/kconfig']) {
    if (!existsSync(join(dir, needed))) return `has no ${needed}: it is not a complete kernel source tree (x86 included)`;
  }
  return undefined;
}

/** "6.12" from a kernel tree's Makefile: the series its patches/<variant>/<series>/ folders go by. */
export function kernelSeriesOf(dir: string): string {
  const head = readFileSync(join(dir, 'Makefile'), 'utf8').slice(0, 4096);
  return `${/^VERSION = (\d+)$/m.exec(head)![1]}.${/^PATCHLEVEL = (\d+)$/m.exec(head)![1]}`;
}
