/**
 * A small kernel git history for the bisect and watch tests: a clone of the pristine 6.1 tree kexp
 * extracted, with the branch `main` reset to it, on which a test puts its own commits (harmless
 * documentation commits and the early-break change to mm/gup.c). The clone sits at one fixed place
 * in the cache: kexp's working copy of it (keyed by the path) is built clean once for both tests,
 * and every commit after that builds incrementally.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot } from '../../src/core/paths.js';
import type { BuildJson } from '../../src/cli/build.js';
import type { BuildRecord } from '../../src/kernel/build.js';
import { jsonLines, kexp, repoRoot } from './kexp.js';

export const earlyBreak61 = join(repoRoot, 'patches/early-break/6.1', readdirSync(join(repoRoot, 'patches/early-break/6.1'))[0]!);

/** A mail that adds Documentation/kexp-<topic>-note-<n>.txt: a commit that changes no object. */
export function docPatch(topic: string, n: number): string {
  return [
    'From 0 Mon Sep 17 00:00:00 2001',
    'From: kexp <kexp@localhost>',
    'Date: Wed, 1 Jan 2025 00:00:00 +0000',
    `Subject: [PATCH] Documentation: kexp ${topic} note ${n}`,
    '',
    '---',
    `diff --git a/Documentation/kexp-${topic}-note-${n}.txt b/Documentation/kexp-${topic}-note-${n}.txt`,
    'new file mode 100644',
    '--- /dev/null',
    `+++ b/Documentation/kexp-${topic}-note-${n}.txt`,
    '@@ -0,0 +1 @@',
    `+harmless change ${n}`,
    '',
  ].join('\n');
}

export interface KernelHistory {
  repo: string;
  /** git in the clone; returns its trimmed stdout. */
  git: (args: string[]) => Promise<string>;
  /** The pristine commit `main` was reset to. */
  base: string;
  /** Applies a patch file, or docPatch(topic, n) for a number, as a commit on `main`; returns the commit. */
  am: (patch: string | number) => Promise<string>;
}

/**
 * The clone with `main` at the pristine commit and nothing else in its work tree. `env` is given
 * to git (fixed author and committer dates make the same commits on every run).
 */
export async function kernelHistory(work: string, topic: string, env: Record<string, string> = {}): Promise<KernelHistory> {
  const built = jsonLines<BuildJson>((await kexp(['build', '--kernel', '6.1', '--json'])).stdout)[0]!;
  const tree = (JSON.parse(readFileSync(join(built.bzImage, '..', 'build.json'), 'utf8')) as BuildRecord).tree.path;
  const repo = join(cacheRoot(), 'test-fixtures', 'bisect-linux-6.1');
  const git = async (args: string[]): Promise<string> =>
    (await execa('git', ['-C', repo, '-c', 'user.name=kexp', '-c', 'user.email=kexp@localhost', ...args], { env })).stdout.trim();
  const pristine = (await execa('git', ['-C', tree, 'rev-parse', 'HEAD'])).stdout.trim();
  if (!existsSync(join(repo, '.git'))) {
    rmSync(repo, { recursive: true, force: true });
    mkdirSync(join(repo, '..'), { recursive: true });
    await execa('git', ['clone', '-q', '--shared', tree, repo]);
  }
  await git(['checkout', '-q', '-B', 'main', pristine]);
  await git(['reset', '-q', '--hard', pristine]);
  await git(['clean', '-q', '-f', '-d', '-x']);
  const am = async (patch: string | number): Promise<string> => {
    let file = patch;
    if (typeof patch === 'number') {
      file = join(work, `${topic}-doc-${patch}.patch`);
      writeFileSync(file, docPatch(topic, patch));
    }
    await git(['am', '-q', String(file)]);
    return git(['rev-parse', 'HEAD']);
  };
  return { repo, git, base: await git(['rev-parse', 'HEAD']), am };
}
