/**
 * A tree taken as it is on disk (kernel/snapshot.ts), on a tiny fake "kernel tree": the few files
 * kexp checks (Makefile with VERSION/PATCHLEVEL, Kconfig, arch/x86/Kconfig, scripts/kconfig/) and
 * a source file. Nothing is built: the snapshot is git bookkeeping, and that is run for real
 * (git add, write-tree in kexp's own repository), with the user's repository checked untouched.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { kernelSeriesOf, kernelTreeProblem } from '../../../src/config/kernel-tree.js';
import { indexStampSeconds, snapshotTree, treeIdOf, type TreeSnapshot } from '../../../src/kernel/snapshot.js';
import { cacheLayout, type CacheLayout } from '../../../src/core/paths.js';
import { InputError } from '../../../src/core/errors.js';
import { scratchFolders, testGitEnv } from '../../helpers/scratch.js';

const folder = scratchFolders('kexp-snapshot');

function freshCache(): CacheLayout {
  return cacheLayout(folder('cache'));
}

const gitEnv = testGitEnv;

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function write(file: string, text: string): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
}

function fakeTree(dir: string, version = '6', patchlevel = '12'): string {
  write(join(dir, 'Makefile'), `# SPDX-License-Identifier: GPL-2.0\nVERSION = ${version}\nPATCHLEVEL = ${patchlevel}\nSUBLEVEL = 0\n`);
  write(join(dir, 'Kconfig'), 'mainmenu "Linux"\n');
  write(join(dir, 'arch/x86/Kconfig'), 'config X86\n\tdef_bool y\n');
  write(join(dir, 'scripts/kconfig/Makefile'), '# kconfig\n');
  write(join(dir, 'mm/gup.c'), 'int retry = 1;\n');
  write(join(dir, '.gitignore'), '*.o\n/.config\n');
  return dir;
}

function gitTree(name = 'linux'): { dir: string; head: string } {
  const dir = fakeTree(folder(name));
  git(dir, ['init', '-q']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'v6.12']);
  return { dir, head: git(dir, ['rev-parse', 'HEAD']) };
}

/** Every file under .git with its size and mtime, and the index's hash: what "untouched" means. */
function repoState(dir: string): { files: string[]; index: string; status: string } {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else files.push(`${relative(dir, path)} ${stat.size} ${stat.mtimeMs}`);
    }
  };
  walk(join(dir, '.git'));
  const index = createHash('sha256')
    .update(readFileSync(join(dir, '.git/index')))
    .digest('hex');
  // GIT_OPTIONAL_LOCKS=0: git status would otherwise refresh (rewrite) the index it reads.
  const status = execFileSync('git', ['status', '--porcelain'], { cwd: dir, env: { ...gitEnv, GIT_OPTIONAL_LOCKS: '0' }, encoding: 'utf8' }).trimEnd();
  return { files: files.sort(), index, status };
}

/**
 * A checkout made a while ago, as a developer's tree is: files and index older than "now", the
 * index refreshed after the files were dated (so no entry is racily clean).
 */
function ageCheckout(dir: string): void {
  const past = new Date(Date.now() - 3600_000);
  for (const file of git(dir, ['ls-files']).split('\n')) utimesSync(join(dir, file), past, past);
  git(dir, ['update-index', '--refresh', '-q']);
}

const withoutTime = (line: string): string => line.replace(/ [\d.]+$/, '');

/**
 * snapshotTree keeps one snapshot per process, cache and folder; a fresh copy of the module takes
 * the folder again with the same cache (the snapshot repository and its index reused), as the next
 * kexp command would.
 */
async function nextCommand(layout: CacheLayout, dir: string): Promise<TreeSnapshot> {
  vi.resetModules();
  const fresh = await import('../../../src/kernel/snapshot.js');
  return fresh.snapshotTree(layout, dir);
}

/** The blob a snapshot recorded for a file. */
function recorded(snapshot: TreeSnapshot, path: string): string {
  return git(snapshot.repository, ['--git-dir', snapshot.repository, 'rev-parse', `${snapshot.tree}:${path}`]);
}

const blobOf = (text: string): string => execFileSync('git', ['hash-object', '--stdin'], { input: text, encoding: 'utf8' }).trim();

describe('kernelTreeProblem and kernelSeriesOf', () => {
  it('accepts a kernel tree and says what is missing from other folders', () => {
    const dir = fakeTree(folder('linux'));
    expect(kernelTreeProblem(dir)).toBeUndefined();
    expect(kernelSeriesOf(dir)).toBe('6.12');
    expect(kernelSeriesOf(fakeTree(folder('old'), '6', '1'))).toBe('6.1');
    expect(kernelTreeProblem(join(dir, 'nope'))).toBe('does not exist');
    expect(kernelTreeProblem(join(dir, 'Makefile'))).toBe('is not a folder');
    expect(kernelTreeProblem(folder('empty'))).toContain('has no Makefile');
    const other = folder('other');
    write(join(other, 'Makefile'), 'VERSION = 6\nall:\n');
    expect(kernelTreeProblem(other)).toContain('"PATCHLEVEL = "');
    for (const needed of ['Kconfig', 'arch/x86/Kconfig', 'scripts/kconfig']) {
      const partial = fakeTree(folder('partial'));
      rmSync(join(partial, needed), { recursive: true });
      expect(kernelTreeProblem(partial)).toContain(`has no ${needed}`);
    }
  });
});

describe('snapshotTree', () => {
  it("records a clean git tree as its HEAD's tree, and says so", async () => {
    const { dir, head } = gitTree();
    const cache = freshCache();
    const snapshot = await snapshotTree(cache, dir);
    expect(snapshot.tree).toBe(git(dir, ['rev-parse', 'HEAD^{tree}']));
    expect(snapshot.summary).toBe(`at ${head.slice(0, 12)}`);
    expect(git(cache.root, ['--git-dir', snapshot.repository, 'rev-parse', `${snapshot.commit}^{tree}`])).toBe(snapshot.tree);
    expect(snapshot.repository.startsWith(cache.work)).toBe(true);
    expect(snapshot.repository).toContain(treeIdOf(dir));
  });

  it("follows edits, untracked files and .gitignore; leaves the user's repository as it was", async () => {
    const { dir, head } = gitTree();
    ageCheckout(dir);
    const layout = freshCache();
    const before = repoState(dir);
    const clean = await snapshotTree(layout, dir);

    write(join(dir, 'mm/gup.c'), 'int retry = 0;\n');
    const edited = await nextCommand(layout, dir);
    expect(edited.tree).not.toBe(clean.tree);
    expect(recorded(edited, 'mm/gup.c')).toBe(blobOf('int retry = 0;\n'));
    expect(edited.summary).toBe(`at ${head.slice(0, 12)} + 1 changed file (mm/gup.c)`);

    write(join(dir, 'mm/new.c'), 'int fresh;\n');
    const untracked = await nextCommand(layout, dir);
    expect(untracked.tree).not.toBe(edited.tree);
    expect(recorded(untracked, 'mm/new.c')).toBe(blobOf('int fresh;\n'));
    expect(untracked.summary).toBe(`at ${head.slice(0, 12)} + 2 changed files (mm/gup.c, mm/new.c)`);

    write(join(dir, 'mm/gup.o'), 'object code');
    write(join(dir, '.config'), 'CONFIG_A=y\n');
    const ignored = await nextCommand(layout, dir);
    expect(ignored.tree).toBe(untracked.tree);

    for (const name of ['a.c', 'b.c']) write(join(dir, 'kernel', name), name);
    const many = await nextCommand(layout, dir);
    expect(many.summary).toBe(`at ${head.slice(0, 12)} + 4 changed files (kernel/a.c, kernel/b.c, mm/gup.c, ...)`);

    const after = repoState(dir);
    expect(after.index).toBe(before.index);
    expect(after.files).toEqual(before.files);
    expect(before.status).toBe('');
    expect(after.status).toBe(' M mm/gup.c\n?? kernel/\n?? mm/new.c');
  });

  it('back at the committed content, the committed tree again', async () => {
    const { dir, head } = gitTree();
    ageCheckout(dir);
    const layout = freshCache();
    const clean = await snapshotTree(layout, dir);
    write(join(dir, 'mm/gup.c'), 'int retry = 0;\n');
    write(join(dir, 'mm/new.c'), 'int fresh;\n');
    const before = repoState(dir);
    expect((await nextCommand(layout, dir)).tree).not.toBe(clean.tree);
    write(join(dir, 'mm/gup.c'), 'int retry = 1;\n');
    rmSync(join(dir, 'mm/new.c'));
    const back = await nextCommand(layout, dir);
    expect(back.tree).toBe(clean.tree);
    expect(back.summary).toBe(`at ${head.slice(0, 12)}`);
    // The index and the files are the same. (The mtimes of the objects the snapshot would have
    // written, here the committed trees, may change: git "freshens" an object it finds in an
    // alternate instead of writing it again, by touching its file.)
    const after = repoState(dir);
    expect(after.index).toBe(before.index);
    expect(after.files.map(withoutTime)).toEqual(before.files.map(withoutTime));
  });

  it('the same content at another path, a git clone or a plain folder, is the same tree', async () => {
    const { dir } = gitTree();
    write(join(dir, 'mm/gup.c'), 'int retry = 2;\n');
    write(join(dir, 'mm/gup.o'), 'ignored');
    const original = await snapshotTree(freshCache(), dir);

    const copy = join(folder('copy'), 'linux');
    cpSync(dir, copy, { recursive: true, filter: (src) => !src.split('/').includes('.git') });
    expect(existsSync(join(copy, '.git'))).toBe(false);
    const plain = await snapshotTree(freshCache(), copy);
    expect(plain.tree).toBe(original.tree);
    expect(plain.summary).toBe('not a git tree');

    const clone = join(folder('clone'), 'linux');
    git(folder('cwd'), ['clone', '-q', dir, clone]);
    write(join(clone, 'mm/gup.c'), 'int retry = 2;\n');
    const cloned = await snapshotTree(freshCache(), clone);
    expect(cloned.tree).toBe(original.tree);
  });

  it('a git tree reached through a symbolic link is still a git tree', async () => {
    const { dir, head } = gitTree();
    const link = join(folder('links'), 'linux');
    symlinkSync(dir, link);
    const snapshot = await snapshotTree(freshCache(), link);
    expect(snapshot.summary).toBe(`at ${head.slice(0, 12)}`);
    expect(snapshot.tree).toBe(git(dir, ['rev-parse', 'HEAD^{tree}']));
  });

  it("a folder inside another repository is a plain folder, and its parent's files are not in it", async () => {
    const outer = folder('outer');
    git(outer, ['init', '-q']);
    write(join(outer, 'README'), 'outer');
    const dir = fakeTree(join(outer, 'linux'));
    git(outer, ['add', '-A']);
    git(outer, ['commit', '-q', '-m', 'outer']);
    const snapshot = await snapshotTree(freshCache(), dir);
    expect(snapshot.summary).toBe('not a git tree');
    expect(snapshot.tree).toBe(git(outer, ['rev-parse', 'HEAD:linux']));
  });

  it("sees an edit made in the same second as the user's last git add (a racily clean index entry)", { timeout: 15_000 }, async () => {
    const { dir } = gitTree();
    // At the beginning of a second, so that the add and the edit share it (again if a slow
    // machine let the second pass).
    let sameSecond = false;
    for (let attempt = 0; attempt < 5 && !sameSecond; attempt++) {
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
      write(join(dir, 'mm/gup.c'), 'int retry = 3;\n');
      git(dir, ['add', 'mm/gup.c']);
      write(join(dir, 'mm/gup.c'), 'int retry = 4;\n'); // same size, same second
      sameSecond = Math.floor(statSync(join(dir, 'mm/gup.c')).mtimeMs / 1000) === Math.floor(statSync(join(dir, '.git/index')).mtimeMs / 1000);
    }
    // kexp copies the index later, as a command run a moment afterwards would.
    await new Promise((r) => setTimeout(r, 1100));
    const snapshot = await snapshotTree(freshCache(), dir);
    expect(sameSecond).toBe(true);
    expect(recorded(snapshot, 'mm/gup.c')).toBe(blobOf('int retry = 4;\n'));
  });

  it('refuses a folder that is not a kernel tree, naming it', async () => {
    const dir = folder('not-linux');
    await expect(snapshotTree(freshCache(), dir)).rejects.toThrow(InputError);
    await expect(snapshotTree(freshCache(), dir)).rejects.toThrow(`--tree ${dir}: has no Makefile`);
  });

  it('gives one snapshot per process, cache and folder (the builds of one command see the same content)', async () => {
    const { dir } = gitTree();
    const layout = freshCache();
    const first = await snapshotTree(layout, dir);
    write(join(dir, 'mm/gup.c'), 'int retry = 5;\n');
    expect((await snapshotTree(layout, dir)).tree).toBe(first.tree);
    expect((await snapshotTree(freshCache(), dir)).tree).not.toBe(first.tree);
  });
});

describe('indexStampSeconds: the date of a copied index', () => {
  it('is never older than the original in nanoseconds, and about 2 ms later at most', () => {
    for (const ns of [1_765_065_600_123_999_950n, 1_765_065_600_000_000_000n, 1_765_065_600_000_000_001n, 1_765_065_600_999_999_999n]) {
      const stamp = indexStampSeconds(ns);
      // What utimensat receives: libuv cuts the double of seconds to whole nanoseconds.
      const back = BigInt(Math.floor(stamp)) * 1_000_000_000n + BigInt(Math.trunc((stamp - Math.floor(stamp)) * 1e9));
      expect(back >= ns, `${ns} -> ${stamp}`).toBe(true);
      expect(back - ns < 2_001_000n, `${ns} -> ${stamp}`).toBe(true);
    }
  });
});
