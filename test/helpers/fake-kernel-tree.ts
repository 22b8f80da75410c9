/**
 * A fake kernel source tree for orchestration tests (issue 14, item 5): what kexp's kernel stage
 * checks and runs, and nothing more. Its Makefile answers the targets kexp makes (tinyconfig,
 * olddefconfig, bzImage, with O= for the output folder) and "builds" a bzImage (a few bytes) in
 * about a second; told so, it fails the build with a compiler error as gcc writes it (the file,
 * line and column first, exit 2 from make) or drops a setting at olddefconfig (an unmet
 * dependency, as kconfig does). Its usr/gen_init_cpio.c is a stand-in too (the image stage takes
 * gen_init_cpio from the first source tree in the cache): it writes its list out, which is all a
 * fake QEMU needs of an initramfs.
 *
 * How it fails is part of the tree's content (the Makefile), so a failing tree and a working one
 * never share a cache entry.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type FakeTreeFailure = 'none' | 'build' | 'olddefconfig';

export interface FakeTreeOptions {
  /** VERSION.PATCHLEVEL of the Makefile (the series kexp's patches go by). */
  series?: string;
  fail?: FakeTreeFailure;
  /** Seconds the bzImage "build" takes. */
  buildSeconds?: number;
  /** Any text: a tree with other content (another kernel key). */
  salt?: string;
}

/** The compiler error the failing build prints (gcc's format): the file named first. */
export const FAKE_COMPILE_ERROR = "mm/gup.c:1828:17: error: 'pages' undeclared (first use in this function)";
/** The setting a failing olddefconfig drops, and the dependency it says is unmet. */
export const FAKE_DROPPED_SYMBOL = 'USERFAULTFD';

function makefile(options: Required<FakeTreeOptions>): string {
  const [version, patchlevel] = options.series.split('.');
  // Recipes start with a tab; make runs each line in sh.
  const lines = [
    `VERSION = ${version}`,
    `PATCHLEVEL = ${patchlevel}`,
    'SUBLEVEL = 0',
    'EXTRAVERSION = -fake',
    `# kexp fake kernel tree (${options.salt})`,
    `FAIL := ${options.fail}`,
    `BUILD_SECONDS := ${options.buildSeconds}`,
    'out := $(if $(O),$(O),.)',
    '',
    '.PHONY: tinyconfig defconfig olddefconfig bzImage',
    '',
    'tinyconfig defconfig:',
    '\t@mkdir -p $(out)',
    "\t@printf 'CONFIG_64BIT=y\\nCONFIG_X86_64=y\\n# CONFIG_USERFAULTFD is not set\\n' > $(out)/.config",
    '\t@echo "#"',
    '\t@echo "# configuration written to .config"',
    '\t@echo "#"',
    '',
    'olddefconfig:',
    '\t@test -f $(out)/.config || { echo "***" >&2; echo "*** Configuration file \\".config\\" not found!" >&2; exit 1; }',
    '\t@if [ "$(FAIL)" = olddefconfig ]; then \\',
    `\t  grep -v '^CONFIG_${FAKE_DROPPED_SYMBOL}=' $(out)/.config > $(out)/.config.new; \\`,
    `\t  echo '# CONFIG_${FAKE_DROPPED_SYMBOL} is not set' >> $(out)/.config.new; \\`,
    '\t  mv $(out)/.config.new $(out)/.config; \\',
    '\tfi',
    '\t@echo "# configuration written to .config"',
    '',
    'bzImage:',
    '\t@test -f $(out)/.config || { echo "*** no .config in $(out)" >&2; exit 2; }',
    '\t@echo "  SYNC    include/config/auto.conf"',
    '\t@echo "  CC      init/main.o"',
    '\t@echo "  CC      mm/gup.o"',
    '\t@sleep $(BUILD_SECONDS)',
    '\t@if [ "$(FAIL)" = build ]; then \\',
    "\t  echo 'mm/gup.c: In function '\"'\"'__get_user_pages_locked'\"'\"':' >&2; \\",
    `\t  echo "${FAKE_COMPILE_ERROR}" >&2; \\`,
    "\t  echo 'make[3]: *** [scripts/Makefile.build:229: mm/gup.o] Error 1' >&2; \\",
    '\t  exit 2; \\',
    '\tfi',
    '\t@mkdir -p $(out)/arch/x86/boot',
    "\t@printf 'fake bzImage %s.%s.0-fake\\n' $(VERSION) $(PATCHLEVEL) > $(out)/arch/x86/boot/bzImage",
    "\t@printf 'ffffffff81000000 T _text\\nffffffff81234560 T __get_user_pages\\n' > $(out)/System.map",
    '\t@echo "Kernel: arch/x86/boot/bzImage is ready  (#1)"',
    '',
  ];
  return lines.join('\n');
}

const kconfig = `# SPDX-License-Identifier: GPL-2.0
mainmenu "Linux/$(ARCH) fake kernel"

source "arch/x86/Kconfig"
source "mm/Kconfig"
`;

const mmKconfig = `config MMU
\tbool
\tdefault y

config HAVE_ARCH_USERFAULTFD_MINOR
\tbool

config USERFAULTFD
\tbool "Enable userfaultfd() system call"
\tdepends on MMU && FAKE_NEVER_SET
\thelp
\t  The fake tree's USERFAULTFD, with a dependency nothing sets.
`;

// A stand-in for the kernel's usr/gen_init_cpio: copies the list it is given to stdout.
const genInitCpio = `#include <stdio.h>

int main(int argc, char **argv)
{
\tFILE *list = fopen(argv[argc - 1], "r");
\tint c;

\tif (!list) {
\t\tperror(argv[argc - 1]);
\t\treturn 1;
\t}
\tfputs("fake initramfs\\n", stdout);
\twhile ((c = fgetc(list)) != EOF)
\t\tputchar(c);
\treturn 0;
}
`;

const gup = `// SPDX-License-Identifier: GPL-2.0-only
/* The fake tree's mm/gup.c: a file for the compiler error to name. */
long __get_user_pages(void)
{
\treturn 0;
}
`;

/** Writes a fake kernel tree into `dir` (created) and returns it. */
export function writeFakeKernelTree(dir: string, options: FakeTreeOptions = {}): string {
  const full: Required<FakeTreeOptions> = {
    series: options.series ?? '6.12',
    fail: options.fail ?? 'none',
    buildSeconds: options.buildSeconds ?? 1,
    salt: options.salt ?? 'fake',
  };
  const files: Record<string, string> = {
    Makefile: makefile(full),
    Kconfig: kconfig,
    'arch/x86/Kconfig': 'config X86_64\n\tdef_bool y\n\nconfig 64BIT\n\tdef_bool y\n',
    'mm/Kconfig': mmKconfig,
    'mm/gup.c': gup,
    'scripts/kconfig/Makefile': '# the fake tree has no kconfig programs: its top Makefile does the config targets\n',
    'usr/gen_init_cpio.c': genInitCpio,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}
