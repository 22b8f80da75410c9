/**
 * A kernel tree taken as it is on disk: a developer's working tree with uncommitted changes and
 * untracked files. kexp never writes into it. Its content is recorded as a git tree object in a
 * repository of kexp's own (work/<treeId>/snapshot.git): `git add -A` with that repository as the
 * git dir, the user's folder as the work tree and an index of kexp's own, so git's stat cache
 * makes a snapshot after a one-file edit hash one file, not 80,000. The tree object's id is the
 * content's identity (the artifact key covers it); what .gitignore ignores (build outputs of an
 * in-tree build, a .config) is not part of the source.
 *
 * When the folder is a git work tree, the snapshot repository borrows its objects (alternates)
 * and starts from a copy of its index, so even the first snapshot hashes only what changed since
 * the user's last `git add` or checkout.
 */
import { copyFileSync, existsSync, mkdirSync, realpathSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { capture, ProcessError } from '../core/proc.js';
import type { CacheLayout } from '../core/paths.js';
import { withLock } from '../store/lock.js';
import { kernelTreeProblem } from '../config/kernel-tree.js';

export interface TreeSnapshot {
  /** The git tree id of the folder's content. */
  tree: string;
  /** A commit of that tree (no parent, fixed dates: the same content gives the same commit). */
  commit: string;
  /** kexp's repository that holds it (the working copy fetches from it). */
  repository: string;
  /** For people: "at 1a2b3c4d5e6f + 2 changed files (mm/gup.c, ...)" or "not a git tree". */
  summary: string;
  seconds: number;
}

/** The working copy and snapshot repository of a folder are kexp's per folder path. */
export function treeIdOf(dir: string): string {
  return `tree-${sha256(resolve(dir)).slice(0, 24)}`;
}

const gitConfig = [
  '-c',
  'safe.directory=*',
  '-c',
  'core.autocrlf=false',
  '-c',
  'gc.auto=0',
  '-c',
  'maintenance.auto=false',
  '-c',
  'core.untrackedCache=false',
  '-c',
  'core.fsmonitor=false',
];

/** Where the user's repository keeps what we borrow (read only): its objects and its index. */
async function userGit(dir: string): Promise<{ objects: string; index: string; head?: string } | undefined> {
  try {
    const top = await capture('git', [...gitConfig, '-C', dir, 'rev-parse', '--show-toplevel']);
    // git names the top by its real path: ~/linux may be a symbolic link to /data/linux.
    if (resolve(top) !== realpathSync(dir)) return undefined; // a folder inside some other repository
    const [objects, index] = (
      await capture('git', [...gitConfig, '-C', dir, 'rev-parse', '--path-format=absolute', '--git-path', 'objects', '--git-path', 'index'])
    ).split('\n');
    const head = await capture('git', [...gitConfig, '-C', dir, 'rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).catch(() => undefined);
    return { objects: objects!, index: index!, ...(head ? { head } : {}) };
  } catch {
    return undefined;
  }
}

const snapshots = new Map<string, Promise<TreeSnapshot>>();

/**
 * The folder's content now, once per process and folder: every build of one command (the variants
 * of a run) sees the same content even if the user edits meanwhile.
 */
export function snapshotTree(layout: CacheLayout, dir: string, options: { signal?: AbortSignal } = {}): Promise<TreeSnapshot> {
  const key = `${layout.root}\0${resolve(dir)}`;
  let found = snapshots.get(key);
  if (!found) {
    found = takeSnapshot(layout, resolve(dir), options);
    snapshots.set(key, found);
    found.catch(() => snapshots.delete(key));
  }
  return found;
}

async function takeSnapshot(layout: CacheLayout, dir: string, options: { signal?: AbortSignal }): Promise<TreeSnapshot> {
  const problem = kernelTreeProblem(dir);
  if (problem)
    throw new InputError(
      `--tree ${dir}: ${problem}`,
      'give the top folder of a Linux source tree (the one with the Makefile that says VERSION = and PATCHLEVEL =)',
    );
  const started = Date.now();
  const treeId = treeIdOf(dir);
  const repository = join(layout.work, treeId, 'snapshot.git');
  return withLock(
    layout.locks,
    `snapshot-${treeId}`,
    async () => {
      const user = await userGit(dir);
      const record = async (seedIndex: boolean): Promise<TreeSnapshot> => {
        if (!existsSync(join(repository, 'HEAD'))) await createRepository(repository, user, seedIndex);
        const env = {
          GIT_INDEX_FILE: join(repository, 'kexp-index'),
          GIT_DIR: repository,
          GIT_WORK_TREE: dir,
          GIT_AUTHOR_NAME: 'kexp',
          GIT_AUTHOR_EMAIL: 'kexp@localhost',
          GIT_COMMITTER_NAME: 'kexp',
          GIT_COMMITTER_EMAIL: 'kexp@localhost',
          GIT_AUTHOR_DATE: '1970-01-01T00:00:00Z',
          GIT_COMMITTER_DATE: '1970-01-01T00:00:00Z',
        };
        const git = (args: string[]): Promise<string> => capture('git', [...gitConfig, ...args], { cwd: dir, env, signal: options.signal });
        await git(['add', '-A', '--', '.']);
        const tree = await git(['write-tree']);
        const top = (await git(['ls-tree', '--name-only', tree, 'Makefile', 'Kconfig'])).split('\n').filter(Boolean);
        if (top.length < 2) {
          throw new InputError(
            `--tree ${dir}: its .gitignore files leave out its own Makefile and Kconfig, so kexp would build nothing`,
            'Debian\'s linux-source packages ignore everything at the top ("/*" in .gitignore, for their packaging): remove that line from the tree\'s .gitignore (kexp takes what git would commit)',
          );
        }
        const commit = await git(['commit-tree', tree, '-m', `kexp snapshot of ${dir}`]);
        await git(['update-ref', 'refs/kexp/snapshot', commit]);
        const summary = await describeSnapshot(git, tree, user);
        return { tree, commit, repository, summary, seconds: (Date.now() - started) / 1000 };
      };
      try {
        return await record(true);
      } catch (error) {
        if (!(error instanceof ProcessError) || error.processExitCode === undefined) throw error;
        // A snapshot repository git cannot use (a copied index in a format it cannot read alone, a
        // disk that filled up, a kill mid-write) is kexp's own: made again, from scratch.
        rmSync(repository, { recursive: true, force: true });
        try {
          return await record(false);
        } catch (again) {
          if (!(again instanceof ProcessError) || again.processExitCode === undefined) throw again;
          rmSync(repository, { recursive: true, force: true });
          throw new InputError(
            `--tree ${dir}: cannot record its content (git: ${again.tail.slice(-3).join(' ')})`,
            'can kexp read every file of the tree? (kexp records it with git add in a repository of its own, never in the tree)',
          );
        }
      }
    },
    { signal: options.signal },
  );
}

/**
 * The seconds to date a copied index with so that, read back in nanoseconds, it is not older than
 * the original (`mtimeNs`): rounded up to the next millisecond plus one, as a double of seconds
 * carries only about a quarter microsecond. Later by at most 2 ms: git re-reads at most the files
 * written in those 2 ms, and misses none.
 */
export function indexStampSeconds(mtimeNs: bigint): number {
  const ms = (mtimeNs + 999_999n) / 1_000_000n + 1n;
  return Number(ms) / 1000;
}

async function createRepository(repository: string, user: { objects: string; index: string } | undefined, seedIndex: boolean): Promise<void> {
  const tmp = `${repository}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await capture('git', [...gitConfig, 'init', '-q', '--bare', tmp]);
  if (user) {
    writeFileSync(join(tmp, 'objects', 'info', 'alternates'), `${user.objects}\n`);
    // The user's index: its stat data lets `git add` skip every file unchanged since.
    if (seedIndex && existsSync(user.index)) {
      copyFileSync(user.index, join(tmp, 'kexp-index'));
      // Dated like the original, never earlier: git tells a racily clean entry (a file edited in
      // the same clock tick as the index was written) by its mtime not being older than the index
      // file's; a copy dated now, or the original's date cut to milliseconds, would hide that edit.
      const { atimeNs, mtimeNs } = statSync(user.index, { bigint: true });
      utimesSync(join(tmp, 'kexp-index'), Number(atimeNs / 1_000_000n) / 1000, indexStampSeconds(mtimeNs));
    }
  }
  renameSync(tmp, repository);
}

async function describeSnapshot(git: (args: string[]) => Promise<string>, tree: string, user: { head?: string } | undefined): Promise<string> {
  if (!user?.head) return 'not a git tree';
  const changed = (await git(['diff-tree', '-r', '--name-only', `${user.head}^{tree}`, tree]).catch(() => '')).split('\n').filter(Boolean);
  const at = `at ${user.head.slice(0, 12)}`;
  if (changed.length === 0) return at;
  const shown = changed.slice(0, 3).join(', ') + (changed.length > 3 ? ', ...' : '');
  return `${at} + ${changed.length} changed file${changed.length === 1 ? '' : 's'} (${shown})`;
}
