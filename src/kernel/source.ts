/**
 * Source trees. Each distinct tree (a tarball's content, or a local git repository) gets one
 * long-lived working copy under the cache: work/<treeId>/src, a git repository whose HEAD is the
 * pristine source, plus work/<treeId>/build, the one O= build folder. Variants are applied to
 * that same tree at that same path, so kbuild (which records absolute paths) recompiles only the
 * files a patch touched; resetting to pristine (git reset --hard, git clean) rewrites only the
 * files that differ, and git compares by stat first, so that costs a second, not a rehash.
 *
 * A tree is ready when work/<treeId>/tree.json exists: it is written last, after the pristine
 * commit. Anything else (no tree.json, no .git, a reset that fails) is an unknown state, and the
 * tree is extracted again, with an empty build folder (GNU tar restores the archive's mtimes,
 * older than any object an earlier tree left, so make would trust those objects).
 *
 * Extraction is GNU tar (xz on one core, 8 s for 6.12); recording the pristine commit is
 * `git add` of ~80,000 files (20 s on one core, hashing and compressing every file). The first
 * build of a fresh tree does not wait for the commit when it applies no patch: its files are the
 * pristine source, make reads them while git records them at the lowest CPU priority, and the
 * build waits for the commit only before it changes the tree or reads git (see openPristineTree).
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CancelledError, EnvironmentError, InputError } from '../core/errors.js';
import { sha256, sha256File } from '../core/hash.js';
import { capture, ProcessError, run } from '../core/proc.js';
import { memoByFile } from '../core/memo.js';
import type { CacheLayout } from '../core/paths.js';
import type { Logger } from '../core/log.js';
import type { KernelRecipe } from '../config/recipe.js';
import { snapshotTree, treeIdOf } from './snapshot.js';

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

export async function identifySource(recipe: KernelRecipe, layout: CacheLayout, options: { signal?: AbortSignal } = {}): Promise<SourceIdentity> {
  const source = recipe.source;
  switch (source.type) {
    case 'debian-package': {
      const tarball = `/usr/src/${source.package}.tar.xz`;
      if (!existsSync(tarball)) {
        throw new EnvironmentError(
          `${recipe.file}: source tarball ${tarball} is missing`,
          `install it: apt-get install ${source.package}  (or run: kexp doctor --fix)`,
        );
      }
      const digest = await memoSha256(layout, tarball);
      const version = await memoByFile(layout.downloads, 'dpkg-version', tarball, () =>
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format, not a template
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
        throw new InputError(
          `${recipe.file}: source.ref: "${source.ref}" is not a commit in ${repo}`,
          'give a branch, tag or commit id that `git rev-parse` knows',
        );
      }
      return {
        sourceId: `git-${commit}`,
        treeId: `git-${sha256(resolve(repo)).slice(0, 24)}`,
        label: `git ${repo} ${source.ref} (${commit.slice(0, 12)})`,
        kind: source.type,
        gitRepo: repo,
        commit,
      };
    }
    case 'tree': {
      // The folder as it is now, recorded in kexp's own repository; the working copy is checked
      // out from there like a git source's, so an edit since the last build rewrites that file only.
      const dir = isAbsolute(source.path) ? source.path : resolve(dirname(recipe.file), source.path);
      const snapshot = await snapshotTree(layout, dir, options);
      return {
        sourceId: `tree-${snapshot.tree}`,
        treeId: treeIdOf(dir),
        label: `tree ${dir} ${snapshot.summary}`,
        kind: source.type,
        gitRepo: snapshot.repository,
        commit: snapshot.commit,
      };
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

export function treePaths(layout: CacheLayout, identity: Pick<SourceIdentity, 'treeId'>): TreePaths {
  const dir = join(layout.work, identity.treeId);
  return { dir, src: join(dir, 'src'), build: join(dir, 'build'), kconfig: join(dir, 'kconfig') };
}

/** A file (path in the tree) of the first source tree in the cache that has it, in tree id order; undefined if none does. */
export function fileOfAnyTree(layout: CacheLayout, file: string): string | undefined {
  if (!existsSync(layout.work)) return undefined;
  for (const treeId of readdirSync(layout.work).sort()) {
    const path = join(treePaths(layout, { treeId }).src, file);
    if (existsSync(path)) return path;
  }
  return undefined;
}

// No background gc: packing a kernel's 90k objects would steal a core from make for minutes.
const gitIdentity = [
  '-c',
  'user.name=kexp',
  '-c',
  'user.email=kexp@localhost',
  '-c',
  'commit.gpgsign=false',
  '-c',
  'core.autocrlf=false',
  '-c',
  'gc.auto=0',
  '-c',
  'maintenance.auto=false',
];

/** `nice -n 19 <program>`: work ahead of need gets only the CPU a running build leaves idle. */
function command(file: string, args: string[], lowPriority: boolean | undefined): [string, string[]] {
  return lowPriority ? ['nice', ['-n', '19', file, ...args]] : [file, args];
}

export async function git(cwd: string, args: string[], options: { logFile?: string; signal?: AbortSignal; lowPriority?: boolean } = {}): Promise<string> {
  const { lowPriority, ...rest } = options;
  return capture(...command('git', [...gitIdentity, ...args], lowPriority), { cwd, ...rest });
}

export interface PrepareOptions {
  logger: Logger;
  signal?: AbortSignal;
  logFile?: string;
  onStage?: (stage: string) => void;
  /** Run at the lowest CPU priority (extracting a tree ahead of its build, beside another build). */
  lowPriority?: boolean;
}

export interface OpenedTree {
  /** The tree had to be made (a fresh extraction or clone) rather than reset. */
  created: boolean;
  /**
   * Settles when HEAD holds the pristine source and the tree is ready (tree.json). Until then the
   * files are the pristine source but nothing may change them or read the tree's git: apply a
   * patch, reset, git grep. Rejects if the commit could not be made (the tree is then not ready,
   * and the next build extracts it again). Whoever holds the tree's lock awaits it before letting go.
   */
  recorded: Promise<void>;
}

function treeFile(paths: TreePaths): string {
  return join(paths.dir, 'tree.json');
}

/** A tree kexp finished making: extracted or cloned, its pristine commit recorded. */
export function treeIsReady(paths: TreePaths): boolean {
  return existsSync(join(paths.src, '.git')) && existsSync(treeFile(paths));
}

/**
 * Make sure the working copy exists and holds exactly the pristine source (no patch applied).
 * Returns whether the tree had to be created (a fresh extraction) or was reused.
 */
export async function preparePristineTree(identity: SourceIdentity, paths: TreePaths, options: PrepareOptions): Promise<{ created: boolean }> {
  const tree = await openTree(identity, paths, options, options.lowPriority ?? false);
  await tree.recorded;
  return { created: tree.created };
}

/**
 * The same, except that a tree freshly extracted from a tarball is returned as soon as its files
 * are in place, its pristine commit still being recorded (at low priority) behind `recorded`.
 */
export async function openPristineTree(identity: SourceIdentity, paths: TreePaths, options: PrepareOptions): Promise<OpenedTree> {
  return openTree(identity, paths, options, true);
}

async function openTree(identity: SourceIdentity, paths: TreePaths, options: PrepareOptions, recordLowPriority: boolean): Promise<OpenedTree> {
  if (treeIsReady(paths)) {
    options.onStage?.('resetting tree');
    try {
      await resetToPristine(identity, paths, options);
      return { created: false, recorded: Promise.resolve() };
    } catch (error) {
      if (error instanceof CancelledError || options.signal?.aborted) throw error;
      // A tree git cannot reset (a broken .git, a disk that filled up) is not trusted: made again.
      options.logger.warn({ tree: paths.src, err: error }, 'source tree cannot be reset; extracting it again');
    }
  }
  return createTree(identity, paths, options, recordLowPriority);
}

async function resetToPristine(identity: SourceIdentity, paths: TreePaths, options: PrepareOptions): Promise<void> {
  const run = { signal: options.signal, logFile: options.logFile, lowPriority: options.lowPriority };
  if (identity.commit) {
    await git(paths.src, ['fetch', '-q', identity.gitRepo!, identity.commit], run).catch(() => undefined);
    await git(paths.src, ['checkout', '-q', '-f', '--detach', identity.commit], run);
  } else {
    await git(paths.src, ['reset', '-q', '--hard', 'HEAD'], run);
  }
  await git(paths.src, ['clean', '-q', '-f', '-d', '-x'], run);
}

async function createTree(identity: SourceIdentity, paths: TreePaths, options: PrepareOptions, recordLowPriority: boolean): Promise<OpenedTree> {
  const { signal, logFile, lowPriority } = options;
  // Not ready from here until the commit is recorded; the build folder goes with the old tree.
  rmSync(treeFile(paths), { force: true });
  for (const dir of [paths.src, paths.build, paths.kconfig]) rmSync(dir, { recursive: true, force: true });
  mkdirSync(paths.dir, { recursive: true });
  // What processes killed while making this tree left (we hold its lock: they are gone).
  for (const name of readdirSync(paths.dir)) if (/^\.(src|git)-\d+$/.test(name)) rmSync(join(paths.dir, name), { recursive: true, force: true });
  const tmp = join(paths.dir, `.src-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    if (identity.tarball) {
      options.onStage?.('extracting source');
      await extractTarball(identity.tarball, tmp, { signal, logFile, lowPriority });
    } else if (identity.gitRepo) {
      options.onStage?.('cloning source');
      await run(...command('git', ['clone', '-q', '--shared', '--no-checkout', identity.gitRepo, tmp], lowPriority), { signal, logFile });
      await git(tmp, ['config', 'gc.auto', '0']);
    }
    // At its final path before anything is built in it: kbuild records absolute paths.
    renameSync(tmp, paths.src);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  const markReady = (): void =>
    writeFileSync(
      treeFile(paths),
      `${JSON.stringify({ label: identity.label, kind: identity.kind, sourceId: identity.sourceId, createdAt: new Date().toISOString() }, null, 2)}\n`,
    );
  if (identity.commit) {
    await git(paths.src, ['checkout', '-q', '-f', '--detach', identity.commit], { signal, logFile, lowPriority });
    markReady();
    return { created: true, recorded: Promise.resolve() };
  }
  options.onStage?.('recording pristine tree');
  const recorded = recordPristineCommit(paths, identity.label, { signal, logFile, lowPriority: recordLowPriority }).then(markReady);
  // Handled here so that a caller that fails before awaiting it does not crash the process.
  recorded.catch(() => undefined);
  return { created: true, recorded };
}

/**
 * HEAD := the files as extracted. The repository is made beside the tree and moved into it when
 * the commit is there, so that a tree with a .git always has its pristine HEAD (explain and the
 * kselftest resolver read it without a lock).
 */
async function recordPristineCommit(
  paths: TreePaths,
  label: string,
  options: { signal?: AbortSignal; logFile?: string; lowPriority?: boolean },
): Promise<void> {
  const staging = join(paths.dir, `.git-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    await git(paths.dir, ['init', '-q', staging], options);
    const gitDir = join(staging, '.git');
    const inTree = (args: string[]): Promise<string> => git(paths.src, ['--git-dir', gitDir, '--work-tree', paths.src, ...args], options);
    await inTree(['config', 'gc.auto', '0']);
    await inTree(['config', 'maintenance.auto', 'false']);
    await inTree(['add', '-A', '-f']);
    await inTree(['commit', '-q', '--no-verify', '-m', `pristine ${label}`]);
    renameSync(gitDir, join(paths.src, '.git'));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * GNU tar (xz, gzip, bzip2 or zstd, found from the file's content), without the top folder.
 * Owners are not restored (kexp may run as root; the tree belongs to whoever runs it).
 */
async function extractTarball(file: string, into: string, options: { signal?: AbortSignal; logFile?: string; lowPriority?: boolean }): Promise<void> {
  const args = ['-x', '-f', file, '-C', into, '--strip-components=1', '--no-same-owner'];
  try {
    await run(...command('tar', args, options.lowPriority), { signal: options.signal, logFile: options.logFile, tailLines: 20 });
  } catch (error) {
    if (!(error instanceof ProcessError) || error.processExitCode === undefined) throw error;
    throw new EnvironmentError(
      `cannot extract ${file} into ${into}:\n${error.tail
        .slice(-8)
        .map((l) => `  | ${l}`)
        .join('\n')}`,
      "is the file complete (reinstall the package or download it again) and is there space left on the cache's disk?",
    );
  }
}
