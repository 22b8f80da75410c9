import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accessSync, constants, existsSync, mkdirSync, statSync, statfsSync } from 'node:fs';
import { EnvironmentError, InputError, type KexpError } from './errors.js';

/**
 * Where kernels/, patches/, images/ and experiments/ live: --root or $KEXP_ROOT, else the
 * repository kexp runs from.
 */
export function projectRoot(override?: string): string {
  const chosen = override ?? process.env.KEXP_ROOT;
  if (chosen) return resolve(chosen);
  return packageRoot();
}

/** Where kexp's own code and package.json are. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'kernels'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('kexp: cannot find the project root (package.json beside kernels/)');
    dir = parent;
  }
}

/**
 * Where built artifacts live: $KEXP_CACHE, else $XDG_CACHE_HOME/kexp, else ~/.cache/kexp.
 * Outside the repository, so that a fresh clone reuses what was built before.
 */
export function cacheRoot(override?: string): string {
  return chooseCacheRoot(override).path;
}

/** The cache folder and where that choice came from, so that an error names what to change. */
export interface CacheChoice {
  path: string;
  /** "--cache", "$KEXP_CACHE", "$XDG_CACHE_HOME" or "the default ~/.cache". */
  from: string;
}

export function chooseCacheRoot(override?: string): CacheChoice {
  if (override) return { path: resolve(override), from: '--cache' };
  if (process.env.KEXP_CACHE) return { path: resolve(process.env.KEXP_CACHE), from: '$KEXP_CACHE' };
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && xdg.length > 0) return { path: join(resolve(xdg), 'kexp'), from: '$XDG_CACHE_HOME' };
  return { path: join(homedir(), '.cache', 'kexp'), from: 'the default ~/.cache' };
}

/**
 * Kernel pseudo file systems, by statfs magic: nothing can be stored there, and Node's recursive
 * mkdir under /proc never returns (ENOENT on the child, EEXIST on the parent, forever), with
 * the event loop blocked so that not even Ctrl-C is handled.
 */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x73636673: 'securityfs',
  0x1cd1: 'devpts',
  0xcafe4a11: 'bpf',
  0x6165676c: 'pstore',
  0x62656570: 'configfs',
  0xde5e81e4: 'efivarfs',
  0x65735543: 'fusectl',
};

const PSEUDO_PREFIXES = ['/proc', '/sys'];

/**
 * Check the cache folder and create it, one level at a time (never a recursive mkdir), before
 * anything is written there. Input errors (exit 2): a path under /proc or /sys or on another
 * kernel pseudo file system, a path that is a file, an ancestor that is a file. Environment
 * errors (exit 3): a folder that cannot be created or written (permission, read-only file system).
 */
export function ensureCacheRoot(choice: CacheChoice): string {
  const root = choice.path;
  const fix =
    choice.from === '--cache'
      ? 'give --cache a folder you can write, e.g. --cache ~/.cache/kexp'
      : choice.from === '$KEXP_CACHE'
        ? 'set $KEXP_CACHE to a folder you can write (or unset it for ~/.cache/kexp), or give --cache DIR'
        : `give --cache DIR or set $KEXP_CACHE to a folder you can write`;
  const what = `the cache folder ${root} (from ${choice.from})`;
  if (PSEUDO_PREFIXES.some((p) => root === p || root.startsWith(`${p}/`))) {
    throw new InputError(`${what} is under ${root.startsWith('/proc') ? '/proc' : '/sys'}, a kernel pseudo file system where nothing can be stored`, fix);
  }
  // The nearest part of the path that exists must be a folder on a real file system.
  const missing: string[] = [];
  let existing = root;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(existing).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: an ancestor is a file; walking up finds it and says which.
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        const parent = dirname(existing);
        if (parent === existing) break;
        missing.unshift(existing);
        existing = parent;
        continue;
      }
      if (code === 'EACCES' || code === 'EPERM') throw new EnvironmentError(`${what}: ${existing} cannot be read (permission denied)`, fix);
      throw new EnvironmentError(`${what}: ${existing}: ${(error as Error).message}`, fix);
    }
    if (!isDir) {
      throw new InputError(existing === root ? `${what} is a file, not a folder` : `${what}: ${existing} is a file, not a folder`, fix);
    }
    break;
  }
  const fsType = pseudoFsType(existing);
  if (fsType) throw new InputError(`${what} is on ${existing}, a kernel pseudo file system (${fsType}) where nothing can be stored`, fix);
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(dir).isDirectory()) continue;
      throw cacheProblem(what, dir, error as NodeJS.ErrnoException, fix);
    }
  }
  try {
    accessSync(root, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw cacheProblem(what, root, error as NodeJS.ErrnoException, fix);
  }
  return root;
}

/** The error for a cache folder that cannot be created or written, by errno: exit 3 for the machine, 2 for the path. */
export function cacheProblem(what: string, dir: string, error: NodeJS.ErrnoException, fix: string): KexpError {
  switch (error.code) {
    case 'EACCES':
    case 'EPERM':
      return new EnvironmentError(`${what}: cannot write ${dir} (permission denied)`, fix);
    case 'EROFS':
      return new EnvironmentError(`${what}: ${dir} is on a read-only file system`, fix);
    case 'ENOSPC':
    case 'EDQUOT':
      return new EnvironmentError(`${what}: no space left to create ${dir}`, fix);
    case 'ENOTDIR':
    case 'EEXIST':
      return new InputError(`${what}: ${dir} is a file, not a folder`, fix);
    default:
      return new EnvironmentError(`${what}: cannot create ${dir}: ${error.message}`, fix);
  }
}

function pseudoFsType(dir: string): string | undefined {
  try {
    return PSEUDO_FS[Number(statfsSync(dir).type)];
  } catch {
    return undefined;
  }
}

export interface CacheLayout {
  root: string;
  /** Content-addressed artifacts: kernels/<key>/, images/<key>/. */
  store: string;
  /** Long-lived source trees and build folders, one per source identity. */
  work: string;
  /** Downloads and memoised hashes. */
  downloads: string;
  locks: string;
  logs: string;
}

export function cacheLayout(root: string): CacheLayout {
  return {
    root,
    store: join(root, 'store'),
    work: join(root, 'work'),
    downloads: join(root, 'downloads'),
    locks: join(root, 'locks'),
    logs: join(root, 'logs'),
  };
}
