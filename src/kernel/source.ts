/**
 * Source trees. Each distinct tree (a tarball's content, or a local git repository) gets one
 * long-lived working copy under the cache: work/<treeId>/src, a git repository whose HEAD is the
 * pristine source, plus work/<treeId>/build, the one O= build folder. Variants are applied to
 * that same tree at that same path, so kbuild (which records absolute paths) recompiles only the
 * files a patch touched; resetting to pristine rewrites only the files that differ.
 */
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { execa } from 'execa';
import { EnvironmentError, InputError } from '../core/errors.js';
import { sha256, sha256File } from '../core/hash.js';
import { capture, run } from '../core/proc.js';
import { memoByFile } from '../core/memo.js';
import type { CacheLayout } from '../core/paths.js';
import type { Logger } from '../core/log.js';
import type { KernelRecipe } from '../config/recipe.js';

export interface SourceIdentity {
  /** Identifies the source content: a tarball's sha256 or a git commit. */
  sourceId: string;
  /** Identifies the working copy that holds it (one per tarball, one per git repository). */
  treeId: string;
  /** For people: "linux-source-6.1 6.1.192-2", "git /src/linux v6.1 (abc123)". */
  label: string;
  kind: KernelRecipe['source']['type'];
  tarball?: string;
  gitRepo?: string;
  commit?: string;
}

/** sha256 of big tarballs is remembered by path, size and mtime: hashing 150 MB each run is waste. */
function memoSha256(layout: CacheLayout, file: string): Promise<string> {
  return memoByFile(layout.downloads, 'sha256', file, () => sha256File(file));
}

export async function identifySource(recipe: KernelRecipe, layout: CacheLayout): Promise<SourceIdentity> {
  const source = recipe.source;
  switch (source.type) {
    case 'debian-package': {
      const tarball = `/usr/src/${source.package}.tar.xz`;
      if (!existsSync(tarball)) {
        throw new EnvironmentError(`${recipe.file}: source tarball ${tarball} is missing`, `install it: apt-get install ${source.package}  (or run: kexp doctor --fix)`);
      }
      const digest = await memoSha256(layout, tarball);
      const version = await memoByFile(layout.downloads, 'dpkg-version', tarball, () =>
        capture('dpkg-query', ['-W', '-f=${Version}', source.package]).catch(() => 'unknown version'),
      );
      return { sourceId: `tar-${digest}`, treeId: `tar-${digest.slice(0, 24)}`, label: `${source.package} ${version}`, kind: source.type, tarball };
    }
    case 'tarball': {
      const tarball = await fetchTarball(source.location, source.sha256, recipe, layout);
      return { sourceId: `tar-${source.sha256}`, treeId: `tar-${source.sha256.slice(0, 24)}`, label: basename(source.location), kind: source.type, tarball };
    }
    case 'git': {
      const repo = isAbsolute(source.path) ? source.path : resolve(dirname(recipe.file), source.path);
      if (!existsSync(repo)) throw new InputError(`${recipe.file}: source.path: no such directory ${repo}`);
      let commit: string;
      try {
        commit = await capture('git', ['-C', repo, 'rev-parse', '--verify', '--quiet', `${source.ref}^{commit}`]);
      } catch {
        throw new InputError(`${recipe.file}: source.ref: "${source.ref}" is not a commit in ${repo}`, 'give a branch, tag or commit id that `git rev-parse` knows');
      }
      return { sourceId: `git-${commit}`, treeId: `git-${sha256(resolve(repo)).slice(0, 24)}`, label: `git ${repo} ${source.ref} (${commit.slice(0, 12)})`, kind: source.type, gitRepo: repo, commit };
    }
  }
}

async function fetchTarball(location: string, expected: string, recipe: KernelRecipe, layout: CacheLayout): Promise<string> {
  if (!/^https?:\/\//.test(location)) {
    const path = isAbsolute(location) ? location : resolve(dirname(recipe.file), location);
    if (!existsSync(path)) throw new InputError(`${recipe.file}: source.location: no such file ${path}`);
    const digest = await memoSha256(layout, path);
    if (digest !== expected) {
      throw new InputError(`${recipe.file}: source.sha256 does not match ${path}`, `expected ${expected}, the file has ${digest}`);
    }
    return path;
  }
  const suffix = /\.tar\.(xz|gz|bz2|zst)$/.exec(location)?.[0] ?? '.tar';
  const target = join(layout.downloads, `${expected}${suffix}`);
  if (existsSync(target)) return target;
  mkdirSync(layout.downloads, { recursive: true });
  const tmp = `${target}.${process.pid}.part`;
  const response = await fetch(location).catch((error: Error) => {
    throw new EnvironmentError(`cannot download ${location}: ${error.message}`);
  });
  if (!response.ok || !response.body) throw new EnvironmentError(`cannot download ${location}: HTTP ${response.status}`);
  await pipeline(response.body as unknown as NodeJS.ReadableStream, createWriteStream(tmp));
  const digest = await sha256File(tmp);
  if (digest !== expected) {
    rmSync(tmp, { force: true });
    throw new InputError(`${recipe.file}: source.sha256 does not match the download of ${location}`, `expected ${expected}, got ${digest}`);
  }
  renameSync(tmp, target);
  return target;
}

export interface TreePaths {
  dir: string;
  src: string;
  build: string;
  /** Scratch O= folder where tinyconfig and olddefconfig run, away from the real build. */
  kconfig: string;
}

export function treePaths(layout: CacheLayout, identity: SourceIdentity): TreePaths {
  const dir = join(layout.work, identity.treeId);
  return { dir, src: join(dir, 'src'), build: join(dir, 'build'), kconfig: join(dir, 'kconfig') };
}

// No background gc: packing a kernel's 90k objects would steal a core from make for minutes.
const gitIdentity = ['-c', 'user.name=kexp', '-c', 'user.email=kexp@localhost', '-c', 'commit.gpgsign=false', '-c', 'core.autocrlf=false', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false'];

export async function git(cwd: string, args: string[], options: { logFile?: string; signal?: AbortSignal } = {}): Promise<string> {
  return capture('git', [...gitIdentity, ...args], { cwd, ...options });
}

/**
 * Make sure the working copy exists and holds exactly the pristine source (no patch applied).
 * Returns whether the tree had to be created (a fresh extraction) or was reused.
 */
export async function preparePristineTree(identity: SourceIdentity, paths: TreePaths, options: { logger: Logger; signal?: AbortSignal; logFile?: string; onStage?: (stage: string) => void }): Promise<{ created: boolean }> {
  const ready = existsSync(join(paths.src, '.git')) && existsSync(join(paths.dir, 'tree.json'));
  if (!ready) {
    rmSync(paths.src, { recursive: true, force: true });
    const tmp = join(paths.dir, `.src-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      if (identity.tarball) {
        options.onStage?.('extracting source');
        await extractTarball(identity.tarball, tmp, options.signal);
        options.onStage?.('recording pristine tree');
        await git(tmp, ['init', '-q']);
        await git(tmp, ['config', 'gc.auto', '0']);
        await git(tmp, ['config', 'maintenance.auto', 'false']);
        await git(tmp, ['add', '-A', '-f']);
        await git(tmp, ['commit', '-q', '--no-verify', '-m', `pristine ${identity.label}`]);
      } else if (identity.gitRepo) {
        options.onStage?.('cloning source');
        await run('git', ['clone', '-q', '--shared', '--no-checkout', identity.gitRepo, tmp], { signal: options.signal, logFile: options.logFile });
        await git(tmp, ['config', 'gc.auto', '0']);
      }
      renameSync(tmp, paths.src);
      writeFileSync(join(paths.dir, 'tree.json'), `${JSON.stringify({ label: identity.label, kind: identity.kind, createdAt: new Date().toISOString() }, null, 2)}\n`);
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true });
      throw error;
    }
  }
  options.onStage?.('resetting tree');
  if (identity.commit) {
    if (ready) await git(paths.src, ['fetch', '-q', identity.gitRepo!, identity.commit]).catch(() => undefined);
    await git(paths.src, ['checkout', '-q', '-f', '--detach', identity.commit]);
  } else {
    await git(paths.src, ['reset', '-q', '--hard', 'HEAD']);
  }
  await git(paths.src, ['clean', '-q', '-f', '-d', '-x']);
  return { created: !ready };
}

/** Extract with node-tar; xz (which node-tar does not read) is decompressed by the xz program. */
async function extractTarball(file: string, into: string, signal?: AbortSignal): Promise<void> {
  const tar = await import('tar');
  const extract = tar.x({ cwd: into, strip: 1, preserveOwner: false });
  if (/\.(xz|txz)$/.test(file)) {
    const xz = execa('xz', ['-dc', '-T0', file], { buffer: false, stdout: 'pipe', stderr: 'pipe', cancelSignal: signal });
    await Promise.all([pipeline(xz.stdout!, extract), xz]);
  } else {
    await pipeline(createReadStream(file), extract);
  }
}
