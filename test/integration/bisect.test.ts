/**
 * kexp bisect for real, on Debian's 6.1 source: a small git history (a base commit, a harmless
 * commit, the early-break change to mm/gup.c, another harmless commit) and the same as a patch
 * series. Both searches must name the early-break change as the first revision where an async page
 * fault no longer costs 3 calls of __get_user_pages.
 */
import { mkdirSync, mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHost } from '../../src/doctor/probe.js';
import type { BisectRecord } from '../../src/bisect/run.js';
import { kexp, repoRoot } from '../helpers/kexp.js';
import { docPatch, earlyBreak61, kernelHistory } from '../helpers/kernel-history.js';

const predicate = '__get_user_pages.per_page >= 3';

async function bisectJson(args: string[]): Promise<{ exitCode: number; record: BisectRecord; stderr: string }> {
  const r = await kexp(['bisect', ...args, '--json']);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`kexp bisect printed no JSON (exit ${r.exitCode}):\n${r.stderr}`);
  return { exitCode: r.exitCode, record: JSON.parse(line) as BisectRecord, stderr: r.stderr };
}

function describeTrail(record: BisectRecord): string {
  return record.revisions
    .map((r) => `  ${r.label.padEnd(60)} ${record.steps[String(r.index)]?.verdict ?? '-'} ${record.steps[String(r.index)]?.reason ?? ''}`)
    .join('\n');
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
    writeFileSync(join(series, '0001-doc-1.patch'), docPatch('bisect', 1));
    copyFileSync(earlyBreak61, join(series, '0002-mm-gup-early-break.patch'));
    writeFileSync(join(series, '0003-doc-3.patch'), docPatch('bisect', 3));
    const { exitCode, record, stderr } = await bisectJson([
      '--series',
      series,
      '--kernel',
      '6.1',
      '--workload',
      'async-pf',
      '--pages',
      '64,128',
      '--predicate',
      predicate,
      '--results',
      join(work, 'results'),
    ]);
    console.log(`series bisect:\n${describeTrail(record)}\n${record.result?.summary}`);
    expect(exitCode, stderr).toBe(0);
    expect(record.result).toMatchObject({ kind: 'found', index: 2 });
    expect(record.revisions[2]!.label).toBe('0002-mm-gup-early-break.patch');
  });

  it('finds the commit of a git range that changed the figure, building each commit incrementally', async () => {
    // A kernel git history made from the pristine tree kexp extracted for 6.1.
    const { repo, base, am } = await kernelHistory(work, 'bisect');
    for (const patch of [1, earlyBreak61, 3]) await am(patch);
    const { exitCode, record, stderr } = await bisectJson([
      '--kernel-git',
      repo,
      '--good',
      base,
      '--bad',
      'main',
      '--kernel',
      '6.1',
      '--workload',
      'async-pf',
      '--pages',
      '64,128',
      '--predicate',
      predicate,
      '--results',
      join(work, 'results'),
    ]);
    console.log(
      `git bisect:\n${describeTrail(record)}\n${record.result?.summary}\nsteps: ${Object.values(record.steps)
        .map((s) => `${s.seconds.toFixed(0)} s`)
        .join(', ')}`,
    );
    expect(exitCode, stderr).toBe(0);
    expect(record.result?.kind).toBe('found');
    expect(record.result?.summary).toContain('mm/gup');
    expect(record.revisions).toHaveLength(4);
    // After the first (clean) build of the clone, every step is an incremental build.
    const later = Object.entries(record.steps)
      .filter(([i]) => i !== '0')
      .map(([, s]) => s.seconds);
    for (const seconds of later) expect(seconds).toBeLessThan(120);
  });
});
