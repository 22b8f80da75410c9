/**
 * A make killed mid-build (SIGKILL, the OOM killer, a lost machine, a fleet worker reaped) must
 * not break the next build of its tree. What it leaves behind:
 *
 * - Link outputs written in place: ld writes vmlinux.o, .tmp_vmlinux* and vmlinux straight to
 *   their names; objcopy, the compressor of arch/x86/boot/compressed/vmlinux.bin.* and ar (every
 *   built-in.a, vmlinux.a) too. Killed, they leave a truncated file newer than its inputs.
 * - Objects: gcc's assembler writes the .o at its final name, and objtool then rewrites it in
 *   place. A clean build's half-written object has no .cmd file yet, so make redoes it; but an
 *   object rebuilt over an older one (every incremental build: a variant's mm/gup.o) keeps the
 *   .cmd of the build before, with the same command. kbuild writes `.<target>.cmd` only after its
 *   command succeeded, and its `if_changed` trusts a target that is newer than its prerequisites
 *   and whose saved command is the same: the truncated file is trusted, forever (until an input
 *   changes), and every later build fails (`objcopy: vmlinux.o: file format not recognized`) or,
 *   worse, links a broken kernel. `.DELETE_ON_ERROR` only helps when a command fails, and make's
 *   own cleanup only when make itself gets a catchable signal.
 *
 * So kexp marks the build folder before make starts (a file whose mtime is the start) and removes
 * the mark when make has ended by itself (success, or a failure that make cleaned up after). A
 * build that finds the mark knows a make died there, and removes every file the dead make wrote
 * (modified at or after the mark: objects, archives, .cmd files, generated headers, whatever it
 * was) plus the link outputs, which make then rebuilds. That costs at most what the dead make had
 * done since it started, and nothing at all when no make died. Checking each object's ELF header
 * instead would be cheaper to redo but would miss an object that objtool was halfway through.
 */
import { existsSync, lstatSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const UNFINISHED_MARKER = '.kexp-make-unfinished';

/** Files of the final link, by path in the build folder; the .cmd files of each go with them. Pure. */
export function isLinkOutput(relPath: string): boolean {
  const parts = relPath.split('/');
  const name = parts.pop()!;
  const dir = parts.join('/');
  // ".vmlinux.o.cmd" → "vmlinux.o", "..vmlinux.export.o.cmd" → "vmlinux.export.o".
  const target = name.replace(/\.cmd$/, '').replace(/^\.+/, '');
  switch (dir) {
    case '':
      return /^(vmlinux(\..+)?|tmp_.+|btf\..+|built-in\.a|System\.map|modules\.builtin(\..+)?|modules\.order|Module\.symvers|modules-only\.symvers)$/.test(
        target,
      );
    case 'arch/x86/boot':
      return /^(bzImage|setup\.elf|setup\.bin|vmlinux\.bin|zoffset\.h|voffset\.h)$/.test(target);
    case 'arch/x86/boot/compressed':
      return /^(vmlinux(\..+)?|piggy\.(S|o)|mkpiggy)$/.test(target);
    default:
      return false;
  }
}

export interface UnfinishedCleanup {
  /** Paths in the build folder that were removed. */
  removed: string[];
  /** When the dead make had started. */
  startedAt: string;
}

/**
 * If a make died in this build folder, remove what it may have left half-written (see above) and
 * the mark. Returns what was removed, or undefined when the last make there ended by itself.
 */
export function cleanUpUnfinishedMake(buildDir: string): UnfinishedCleanup | undefined {
  const marker = join(buildDir, UNFINISHED_MARKER);
  if (!existsSync(marker)) return undefined;
  const since = statSync(marker, { bigint: true }).mtimeNs;
  const removed: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        walk(path, relPath);
        continue;
      }
      if (relPath === UNFINISHED_MARKER) continue;
      // At or after the mark: file times come from a coarse clock, a file written in the same tick counts.
      if (isLinkOutput(relPath) || lstatSync(path, { bigint: true }).mtimeNs >= since) {
        unlinkSync(path);
        removed.push(relPath);
      }
    }
  };
  walk(buildDir, '');
  const startedAt = new Date(Number(since / 1_000_000n)).toISOString();
  rmSync(marker, { force: true });
  return { removed: removed.sort(), startedAt };
}

/** Before make: the mark that a make runs in this folder (its mtime is when it started). */
export function markMakeStarted(buildDir: string, what: string): void {
  writeFileSync(join(buildDir, UNFINISHED_MARKER), `${JSON.stringify({ pid: process.pid, what, startedAt: new Date().toISOString() })}\n`);
}

/** After make ended by itself: nothing it wrote is half-written. */
export function markMakeEnded(buildDir: string): void {
  rmSync(join(buildDir, UNFINISHED_MARKER), { force: true });
}
