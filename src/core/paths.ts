import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

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
  if (override) return resolve(override);
  if (process.env.KEXP_CACHE) return resolve(process.env.KEXP_CACHE);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache'), 'kexp');
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
