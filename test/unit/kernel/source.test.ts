/**
 * The life of a source tree, on a tiny tarball made here (the orchestration, not the kernel):
 * extracted by GNU tar, usable before its pristine commit is recorded, reset to pristine
 * rewriting only what a patch changed, and made again from scratch when its state is unknown.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/log.js';
import { cacheLayout } from '../../../src/core/paths.js';
import {
  fileOfAnyTree,
  openPristineTree,
  preparePristineTree,
  treeIsReady,
  treePaths,
  type SourceIdentity,
  type TreePaths,
} from '../../../src/kernel/source.js';

function tarball(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kexp-source-tar-'));
  const top = join(dir, 'linux-source-9.9');
  mkdirSync(join(top, 'mm'), { recursive: true });
  writeFileSync(join(top, 'Makefile'), 'all:\n');
  writeFileSync(join(top, 'mm', 'gup.c'), 'int gup;\n');
  writeFileSync(join(top, 'mm', 'memory.c'), 'int memory;\n');
  writeFileSync(join(top, 'scripts.sh'), '#!/bin/sh\n');
  chmodSync(join(top, 'scripts.sh'), 0o755);
  symlinkSync('mm/gup.c', join(top, 'link'));
  const file = join(dir, 'linux-source-9.9.tar.xz');
  execFileSync('tar', ['-cJf', file, '-C', dir, 'linux-source-9.9']);
  return file;
}

function setup(): { identity: SourceIdentity; paths: TreePaths } {
  const file = tarball();
  const dir = join(mkdtempSync(join(tmpdir(), 'kexp-source-work-')), 'tar-test');
  const identity: SourceIdentity = { sourceId: 'tar-test', treeId: 'tar-test', label: 'linux-source-9.9 test', kind: 'tarball', tarball: file };
  return { identity, paths: { dir, src: join(dir, 'src'), build: join(dir, 'build'), kconfig: join(dir, 'kconfig') } };
}

const options = { logger: silentLogger() };
const gitOut = (src: string, args: string[]): string => execFileSync('git', ['-C', src, ...args], { encoding: 'utf8' }).trim();

describe('source trees', () => {
  it('extracts a tarball without its top folder, keeps modes and links, and records the pristine commit', async () => {
    const { identity, paths } = setup();
    const tree = await openPristineTree(identity, paths, options);
    expect(tree.created).toBe(true);
    // The files are there at once; the tree (and its .git) once its commit is.
    expect(existsSync(join(paths.src, '.git'))).toBe(false);
    expect(readFileSync(join(paths.src, 'mm', 'gup.c'), 'utf8')).toBe('int gup;\n');
    expect(statSync(join(paths.src, 'scripts.sh')).mode & 0o111).not.toBe(0);
    expect(readlinkSync(join(paths.src, 'link'))).toBe('mm/gup.c');
    await tree.recorded;
    expect(treeIsReady(paths)).toBe(true);
    expect(gitOut(paths.src, ['log', '--format=%s'])).toBe('pristine linux-source-9.9 test');
    expect(gitOut(paths.src, ['status', '--porcelain'])).toBe('');
    expect(gitOut(paths.src, ['ls-files']).split('\n').sort()).toEqual(['Makefile', 'link', 'mm/gup.c', 'mm/memory.c', 'scripts.sh']);
  });

  it('resets a patched tree, rewriting only the files that differ', async () => {
    const { identity, paths } = setup();
    await preparePristineTree(identity, paths, options);
    const untouched = statSync(join(paths.src, 'mm', 'memory.c')).mtimeMs;
    writeFileSync(join(paths.src, 'mm', 'gup.c'), 'int gup_variant;\n');
    mkdirSync(join(paths.src, 'new'));
    writeFileSync(join(paths.src, 'new', 'file.c'), 'created by a patch\n');
    mkdirSync(paths.build, { recursive: true });
    writeFileSync(join(paths.build, 'gup.o'), 'object');
    const again = await preparePristineTree(identity, paths, options);
    expect(again.created).toBe(false);
    expect(readFileSync(join(paths.src, 'mm', 'gup.c'), 'utf8')).toBe('int gup;\n');
    expect(existsSync(join(paths.src, 'new'))).toBe(false);
    expect(statSync(join(paths.src, 'mm', 'memory.c')).mtimeMs).toBe(untouched);
    expect(existsSync(join(paths.build, 'gup.o'))).toBe(true);
  });

  it('extracts again, with an empty build folder, a tree whose state is unknown', async () => {
    const { identity, paths } = setup();
    for (const breakIt of [
      () => rmSync(join(paths.dir, 'tree.json')),
      () => rmSync(join(paths.src, '.git'), { recursive: true }),
      () => writeFileSync(join(paths.src, '.git', 'HEAD'), 'garbage\n'),
    ]) {
      await preparePristineTree(identity, paths, options);
      writeFileSync(join(paths.src, 'mm', 'gup.c'), 'half-applied patch\n');
      mkdirSync(paths.build, { recursive: true });
      writeFileSync(join(paths.build, 'gup.o'), 'object of another tree');
      breakIt();
      const made = await preparePristineTree(identity, paths, options);
      expect(made.created).toBe(true);
      expect(readFileSync(join(paths.src, 'mm', 'gup.c'), 'utf8')).toBe('int gup;\n');
      expect(existsSync(join(paths.build, 'gup.o'))).toBe(false);
      expect(gitOut(paths.src, ['status', '--porcelain'])).toBe('');
    }
  });

  it('leaves a tree whose commit was interrupted not ready, and makes it again next time', async () => {
    const { identity, paths } = setup();
    const abort = new AbortController();
    const tree = await openPristineTree(identity, paths, { ...options, signal: abort.signal });
    abort.abort();
    await expect(tree.recorded).rejects.toThrow();
    expect(treeIsReady(paths)).toBe(false);
    // No .git without its pristine commit: whoever reads HEAD finds it or finds no repository.
    expect(existsSync(join(paths.src, '.git'))).toBe(false);
    mkdirSync(join(paths.dir, '.src-99999999'));
    mkdirSync(join(paths.dir, '.git-99999999'));
    const made = await preparePristineTree(identity, paths, options);
    expect(made.created).toBe(true);
    expect(treeIsReady(paths)).toBe(true);
    expect(readdirSync(paths.dir).sort()).toEqual(['src', 'tree.json']);
  });

  it('says what tar said when the tarball is not one (exit 3), and leaves nothing half-extracted', async () => {
    const { identity, paths } = setup();
    writeFileSync(identity.tarball!, 'not a tarball');
    const error = (await preparePristineTree(identity, paths, options).catch((e: unknown) => e)) as EnvironmentError;
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error.message).toContain(`cannot extract ${identity.tarball!}`);
    expect(error.message).toMatch(/tar: .*not look like a tar archive/);
    expect(readdirSync(paths.dir)).toEqual([]);
    expect(treeIsReady(paths)).toBe(false);
    expect(existsSync(paths.src)).toBe(false);
  });
});

describe('fileOfAnyTree', () => {
  it("finds a file in the cache's source trees, first tree id first, and nothing when no tree has it", () => {
    const cache = mkdtempSync(join(tmpdir(), 'kexp-trees-'));
    try {
      const layout = cacheLayout(cache);
      expect(fileOfAnyTree(layout, 'usr/gen_init_cpio.c')).toBeUndefined();
      for (const tree of ['tree-b', 'tree-a', 'tree-c']) mkdirSync(join(treePaths(layout, { treeId: tree }).src, 'usr'), { recursive: true });
      for (const tree of ['tree-c', 'tree-b']) writeFileSync(join(treePaths(layout, { treeId: tree }).src, 'usr', 'gen_init_cpio.c'), tree);
      expect(fileOfAnyTree(layout, 'usr/gen_init_cpio.c')).toBe(join(layout.work, 'tree-b', 'src', 'usr', 'gen_init_cpio.c'));
      expect(fileOfAnyTree(layout, 'usr/none.c')).toBeUndefined();
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
