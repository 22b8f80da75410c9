/**
 * Host prerequisites as data. Each check names what it looks for and the Debian package that
 * provides it; the probing is in probe.ts, the decisions and the report here.
 */

export type Probe =
  | { type: 'command'; command: string }
  | { type: 'file'; path: string }
  /** An ELF file that must be statically linked (Debian's busybox-static, not busybox). */
  | { type: 'static-elf'; path: string };

export interface Check {
  name: string;
  why: string;
  probe: Probe;
  debianPackage: string;
  /** Optional checks report but never fail (a collector that is then unavailable). */
  optional?: boolean;
}

export interface CheckResult {
  check: Check;
  ok: boolean;
  detail: string;
}

export function baseChecks(): Check[] {
  const command = (command: string, debianPackage: string, why: string): Check => ({ name: command, why, probe: { type: 'command', command }, debianPackage });
  return [
    command('qemu-system-x86_64', 'qemu-system-x86', 'boots the kernels'),
    command('gcc', 'gcc', 'compiles kernels and the static workloads'),
    command('make', 'make', 'drives kbuild'),
    command('flex', 'flex', 'kconfig lexer'),
    command('bison', 'bison', 'kconfig parser'),
    command('bc', 'bc', 'kbuild arithmetic'),
    command('cpio', 'cpio', 'initramfs inspection'),
    command('xz', 'xz-utils', 'reads the kernel source tarballs'),
    command('gzip', 'gzip', 'compresses the initramfs'),
    command('ccache', 'ccache', 'keeps recompiles cheap'),
    command('git', 'git', 'records pristine source trees and applies patches'),
    { name: 'libelf headers', why: 'objtool and resolve_btfids', probe: { type: 'file', path: '/usr/include/libelf.h' }, debianPackage: 'libelf-dev' },
    { name: 'libssl headers', why: 'kernel signing tools', probe: { type: 'file', path: '/usr/include/openssl/ssl.h' }, debianPackage: 'libssl-dev' },
    {
      name: 'static libc',
      why: 'links the guest workloads with gcc -static',
      probe: { type: 'file', path: '/usr/lib/x86_64-linux-gnu/libc.a' },
      debianPackage: 'libc6-dev',
    },
    { name: 'static busybox', why: "the guest image's shell and tools", probe: { type: 'static-elf', path: '/bin/busybox' }, debianPackage: 'busybox-static' },
    {
      name: 'perf',
      why: 'the perf collector (optional: without it, perf is reported unavailable)',
      probe: { type: 'command', command: 'perf' },
      debianPackage: 'linux-perf',
      optional: true,
    },
    {
      name: 'setpriv',
      why: 'kills the QEMU of a kexp that is killed outright, SIGKILL included (optional: without it, that QEMU runs on until its timeout)',
      probe: { type: 'command', command: 'setpriv' },
      debianPackage: 'util-linux',
      optional: true,
    },
    {
      name: 'redis-server',
      why: 'the queue of a kexp fleet, on the machine that hosts it, and the fleet tests (optional: kexp run without a fleet needs none)',
      probe: { type: 'command', command: 'redis-server' },
      debianPackage: 'redis-server',
      optional: true,
    },
  ];
}

/** One check per Debian kernel source package the recipes use. */
export function sourcePackageChecks(packages: string[]): Check[] {
  return [...new Set(packages)].sort().map((pkg) => ({
    name: pkg,
    why: 'kernel source tarball for a recipe in kernels/',
    probe: { type: 'file', path: `/usr/src/${pkg}.tar.xz` } as Probe,
    debianPackage: pkg,
  }));
}

export function missingPackages(results: CheckResult[], options: { optional?: boolean } = {}): string[] {
  return [...new Set(results.filter((r) => !r.ok && (options.optional || !r.check.optional)).map((r) => r.check.debianPackage))].sort();
}

export function installCommand(packages: string[]): string {
  return `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

export function formatReport(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.name.length));
  const lines = results.map((r) => {
    const mark = r.ok ? 'ok  ' : r.check.optional ? 'warn' : 'FAIL';
    const tail = r.ok ? r.detail : `${r.detail} — install: apt-get install ${r.check.debianPackage}`;
    return `${mark} ${r.check.name.padEnd(width)}  ${tail}`;
  });
  const missing = missingPackages(results);
  if (missing.length > 0) {
    lines.push('', `missing: ${missing.join(' ')}`, `fix (as root): ${installCommand(missing)}   or: kexp doctor --fix`);
  }
  return lines.join('\n');
}

/** ELF64 little-endian: static when no program header is PT_INTERP (3). */
export function isStaticElf(header: Buffer): boolean | undefined {
  if (header.length < 64 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  if (header[4] !== 2 || header[5] !== 1) return undefined;
  const phoff = Number(header.readBigUInt64LE(32));
  const phentsize = header.readUInt16LE(54);
  const phnum = header.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > header.length) return undefined;
    if (header.readUInt32LE(at) === 3) return false;
  }
  return true;
}
