/**
 * kexp bisect for real, on Debian's 6.1 source: a small git history (a base commit, a harmless
 * commit, the early-break change to mm/gup.c, another harmless commit) and the same as a patch
 * series. Both searches must name the early-break change as the first revision where an async page
 * fault no longer costs 3 calls of __get_user_pages.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHost } from '../../src/doctor/probe.js';
import { cacheRoot } from '../../src/core/paths.js';
import type { BuildJson } from '../../src/cli/build.js';
import type { BuildRecord } from '../../src/kernel/build.js';
import type { BisectRecord } from '../../src/bisect/run.js';
import { jsonLines, kexp, repoRoot } from '../helpers/kexp.js';

const earlyBreak = join(repoRoot, 'patches/early-break/6.1', readdirSync(join(repoRoot, 'patches/early-break/6.1'))[0]!);
const predicate = '__get_user_pages.per_page >= 3';

function docPatch(n: number): string {
  return [
    'From 0 Mon Sep 17 00:00:00 2001',
    'From: kexp <kexp@localhost>',
    'Date: Wed, 1 Jan 2025 00:00:00 +0000',
    `Subject: [PATCH] Documentation: kexp bisect note ${n}`,
    '',
    '---',
    `diff --git a/Documentation/kexp-bisect-note-${n}.txt b/Documentation/kexp-bisect-note-${n}.txt`,
    'new file mode 100644',
    '--- /dev/null',
    `+++ b/Documentation/kexp-bisect-note-${n}.txt`,
    '@@ -0,0 +1 @@',
    `+harmless change ${n}`,
    '',
  ].join('\n');
}

async function bisectJson(args: string[]): Promise<{ exitCode: number; record: BisectRecord; stderr: string }> {
  const r = await kexp(['bisect', ...args, '--json']);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`kexp bisect printed no JSON (exit ${r.exitCode}):\n${r.stderr}`);
  return { exitCode: r.exitCode, record: JSON.parse(line) as BisectRecord, stderr: r.stderr };
}

function describeTrail(record: BisectRecord): string {
  return record.revisions.map((r) => `  ${r.label.padEnd(60)} ${record.steps[String(r.index)]?.verdict ?? '-'} ${record.steps[String(r.index)]?.reason ?? ''}`).join('\n');
}

describe('kexp bisect on Debian 6.1 with async-pf', () => {
  let work: string;

  beforeAll(async () => {
    await ensureHost(repoRoot);
    work = mkdtempSync(join(tmpdir(), 'kexp-bisect-'));
  });

  it('finds the patch of a series that changed the figure', async () => {
    const series = join(work, 'series');
    mkdirSync(series);
    writeFileSync(join(series, '0001-doc-1.patch'), docPatch(1));
    copyFileSync(earlyBreak, join(series, '0002-mm-gup-early-break.patch'));
    writeFileSync(join(series, '0003-doc-3.patch'), docPatch(3));
    const { exitCode, record, stderr } = await bisectJson(['--series', series, '--kernel', '6.1', '--workload', 'async-pf', '--pages', '64,128', '--predicate', predicate, '--results', join(work, 'results')]);
    console.log(`series bisect:\n${describeTrail(record)}\n${record.result?.summary}`);
    expect(exitCode, stderr).toBe(0);
    expect(record.result).toMatchObject({ kind: 'found', index: 2 });
    expect(record.revisions[2]!.label).toBe('0002-mm-gup-early-break.patch');
  });

  it('finds the commit of a git range that changed the figure, building each commit incrementally', async () => {
    // A kernel git history made from the pristine tree kexp extracted for 6.1.
    const built = jsonLines<BuildJson>((await kexp(['build', '--kernel', '6.1', '--json'])).stdout)[0]!;
    const tree = (JSON.parse(readFileSync(join(built.bzImage, '..', 'build.json'), 'utf8')) as BuildRecord).tree.path;
    // At a fixed place in the cache, so that kexp's working copy of it (keyed by the path) stays
    // warm between test runs: only the first run pays the clean build.
    const repo = join(cacheRoot(), 'test-fixtures', 'bisect-linux-6.1');
    const git = (args: string[]) => execa('git', ['-C', repo, '-c', 'user.name=kexp', '-c', 'user.email=kexp@localhost', ...args]);
    const pristine = (await execa('git', ['-C', tree, 'rev-parse', 'HEAD'])).stdout.trim();
    if (!existsSync(join(repo, '.git'))) {
      rmSync(repo, { recursive: true, force: true });
      mkdirSync(join(repo, '..'), { recursive: true });
      await execa('git', ['clone', '-q', '--shared', tree, repo]);
    }
    await git(['checkout', '-q', '-B', 'main', pristine]);
    await git(['reset', '-q', '--hard', pristine]);
    await git(['clean', '-q', '-f', '-d', '-x']);
    const base = (await git(['rev-parse', 'HEAD'])).stdout.trim();
    for (const [n, patch] of [[1, null], [2, earlyBreak], [3, null]] as const) {
      if (patch) {
        await git(['am', '-q', patch]);
      } else {
        writeFileSync(join(work, `doc-${n}.patch`), docPatch(n));
        await git(['am', '-q', join(work, `doc-${n}.patch`)]);
      }
    }
    const { exitCode, record, stderr } = await bisectJson(['--kernel-git', repo, '--good', base, '--bad', 'main', '--kernel', '6.1', '--workload', 'async-pf', '--pages', '64,128', '--predicate', predicate, '--results', join(work, 'results')]);
    console.log(`git bisect:\n${describeTrail(record)}\n${record.result?.summary}\nsteps: ${Object.values(record.steps).map((s) => `${s.seconds.toFixed(0)} s`).join(', ')}`);
    expect(exitCode, stderr).toBe(0);
    expect(record.result?.kind).toBe('found');
    expect(record.result?.summary).toContain('mm/gup');
    expect(record.revisions).toHaveLength(4);
    // After the first (clean) build of the clone, every step is an incremental build.
    const later = Object.entries(record.steps).filter(([i]) => i !== '0').map(([, s]) => s.seconds);
    for (const seconds of later) expect(seconds).toBeLessThan(120);
  });
});
