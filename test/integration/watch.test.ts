/**
 * Watching a branch for real, on Debian's 6.1 source: a kernel recipe of type git follows the
 * branch `main` of a small history made from the pristine tree (a harmless commit, then the
 * early-break change to mm/gup.c, then another harmless commit). The first nightly runs at the
 * first commit; the branch moves forward past the mm/gup.c change; the second nightly must exit 1,
 * the history must show the step from 3 to 2 calls of __get_user_pages per async page fault, and
 * the bisection must name the mm/gup.c commit, in the comparison, the history and the summary.
 *
 * The history's commits have fixed dates, so they are the same commits on every run of the test,
 * and the clone is the one the bisect test keeps at a fixed place in the cache: kexp's working copy
 * of it (keyed by its path) is built clean once for both tests; later builds are incremental.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHost } from '../../src/doctor/probe.js';
import { cacheRoot } from '../../src/core/paths.js';
import type { BuildRecord } from '../../src/kernel/build.js';
import type { NightlyBisection } from '../../src/results/nightly.js';
import type { RunManifest } from '../../src/results/store.js';
import { kexp, repoRoot } from '../helpers/kexp.js';
import { earlyBreak61, kernelHistory } from '../helpers/kernel-history.js';

const GUP = '__get_user_pages';

interface NightlyJson {
  run: string;
  dir: string;
  previous: string | null;
  changed: number;
  newFailures: number;
  findings: boolean;
  bisections: NightlyBisection[];
  notBisected: unknown[];
  history: string;
  notified: boolean | null;
}

async function nightly(args: string[]): Promise<{ exitCode: number; json: NightlyJson; stderr: string; seconds: number }> {
  const started = Date.now();
  const r = await kexp(['nightly', ...args, '--json']);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`kexp nightly printed no JSON (exit ${r.exitCode}):\n${r.stderr}`);
  return { exitCode: r.exitCode, json: JSON.parse(line) as NightlyJson, stderr: r.stderr, seconds: (Date.now() - started) / 1000 };
}

describe('kexp nightly on a kernel that follows a branch', () => {
  let work: string;

  beforeAll(async () => {
    await ensureHost(repoRoot);
    work = mkdtempSync(join(tmpdir(), 'kexp-watch-'));
  });

  it('finds the step in the history and bisects it to the mm/gup.c commit', async () => {
    const testStarted = Date.now();
    // The pristine tree kexp extracted for 6.1, cloned into a branch that moves (the bisect test's clone).
    const { repo, git, am } = await kernelHistory(work, 'nightly', { GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z' });
    const commitA = await am(1);

    // A project folder whose one kernel follows `main`, with kexp's fragments, patches and images.
    const root = mkdtempSync(join(tmpdir(), 'kexp-watch-root-'));
    mkdirSync(join(root, 'kernels'));
    symlinkSync(join(repoRoot, 'kernels', 'fragments'), join(root, 'kernels', 'fragments'));
    symlinkSync(join(repoRoot, 'patches'), join(root, 'patches'));
    symlinkSync(join(repoRoot, 'images'), join(root, 'images'));
    const sixOne = JSON.parse(readFileSync(join(repoRoot, 'kernels', '6.1.json'), 'utf8')) as { fragments: string[] };
    writeFileSync(
      join(root, 'kernels', 'linux-git.json'),
      JSON.stringify({ name: 'linux-git', series: '6.1', source: { type: 'git', path: repo, ref: 'main' }, fragments: sixOne.fragments }),
    );
    const experiment = join(root, 'watch-test.json');
    writeFileSync(
      experiment,
      JSON.stringify({
        name: 'watch-test',
        kernels: ['linux-git'],
        variants: ['baseline'],
        workloads: [{ name: 'async-pf' }],
        sizes: [64, 128],
        repetitions: 1,
      }),
    );
    const results = join(work, 'results');
    const mail = join(work, 'mail.txt');
    const args = ['--root', root, experiment, '--results', results, '--bisect', '--notify', `cat > '${mail}'`];

    const first = await nightly(args);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json.previous).toBeNull();
    expect(existsSync(mail), 'nothing changed: no notification').toBe(false);
    const manifestA = JSON.parse(readFileSync(join(first.json.dir, 'manifest.json'), 'utf8')) as RunManifest;
    expect(manifestA.artifacts.kernels['linux-git/baseline']?.commit).toBe(commitA);

    // The branch moves forward past the change to mm/gup.c.
    const commitC = await am(earlyBreak61);
    const commitB = await am(3);

    const second = await nightly(args);
    console.log(
      `night 1: ${first.seconds.toFixed(0)} s; night 2 with its bisection: ${second.seconds.toFixed(0)} s\n${second.stderr
        .split('\n')
        .filter((l) => /step \d|bisection|✓|✗/.test(l))
        .join('\n')}`,
    );
    expect(second.exitCode, second.stderr).toBe(1);
    expect(second.json.previous).toBe(first.json.dir);
    expect(second.json.changed).toBeGreaterThanOrEqual(1);
    const manifestB = JSON.parse(readFileSync(join(second.json.dir, 'manifest.json'), 'utf8')) as RunManifest;
    const artifactB = manifestB.artifacts.kernels['linux-git/baseline']!;
    expect(artifactB.commit).toBe(commitB);
    // Built from the last night's objects: mm/gup.c and a relink, not a clean build.
    const buildB = JSON.parse(readFileSync(join(cacheRoot(), 'store', 'kernels', artifactB.key, 'build.json'), 'utf8')) as BuildRecord;
    console.log(
      `night 2's build: ${buildB.objectsCompiled} objects compiled, tree created: ${buildB.tree.created}, timings ${JSON.stringify(buildB.timings)}${artifactB.cached ? ' (a store hit now: this record is from the first run of the test)' : ''}`,
    );
    expect(buildB.tree.created).toBe(false);
    expect(buildB.objectsCompiled).toBeLessThan(100);

    // The bisection names the mm/gup.c commit.
    const bisection = second.json.bisections.find((b) => b.changes.some((c) => c.function === GUP));
    expect(bisection, JSON.stringify(second.json.bisections)).toBeDefined();
    expect(bisection!.good.commit).toBe(commitA);
    expect(bisection!.bad.commit).toBe(commitB);
    expect(bisection!.result, JSON.stringify(bisection)).toMatchObject({ kind: 'found', commit: commitC });
    expect(bisection!.result!.kind === 'found' && bisection!.result!.subject).toMatch(/^mm\/gup: /);
    expect(bisection!.changes[0]).toMatchObject({ function: GUP, before: '3', after: '2', predicate: `${GUP}.per_page > 2.5` });
    const record = JSON.parse(readFileSync(join(results, bisection!.bisectId!, 'bisect.json'), 'utf8')) as {
      revisions: { id: string }[];
      steps: Record<string, { verdict: string; seconds: number }>;
    };
    expect(record.revisions.map((r) => r.id)).toEqual([commitA, commitC, commitB]);
    console.log(
      `bisection steps: ${Object.entries(record.steps)
        .map(([i, s]) => `#${i} ${s.verdict} ${s.seconds.toFixed(0)} s`)
        .join(', ')}`,
    );

    // ... in the comparison, the summary handed to --notify, and the history.
    const comparison = readFileSync(join(second.json.dir, 'comparison.txt'), 'utf8');
    expect(comparison).toContain('3 → 2');
    expect(comparison.replace(/\s+/g, ' ')).toContain(`first bad commit ${commitC} mm/gup: `);
    const summary = readFileSync(mail, 'utf8');
    expect(summary).toMatch(new RegExp(`^Subject: kexp nightly watch-test: \\d+ changes?, first bad commit ${commitC.slice(0, 12)} mm/gup: `));

    const history = await kexp(['--root', root, 'history', 'watch-test', '--results', results]);
    expect(history.exitCode, history.stderr).toBe(0);
    console.log(history.stdout);
    const rowOf = (run: string): string => history.stdout.split('\n').find((l) => l.startsWith(run.split('/').pop()!)) ?? '';
    expect(rowOf(first.json.dir)).toMatch(new RegExp(`${commitA.slice(0, 12)}\\s+3$`));
    expect(rowOf(second.json.dir)).toMatch(new RegExp(`${commitB.slice(0, 12)}\\s+2!$`));
    expect(history.stdout.replace(/\s+/g, ' ')).toContain(`first bad commit ${commitC}`);
    const page = readFileSync(second.json.history, 'utf8');
    expect(page).toContain('<g class="step found">');
    expect(page).toContain(commitC);

    // The branch is rewritten: main goes back to the first commit and takes another one. The
    // figure steps back to 3, and there is no range to bisect: a note says so.
    await git(['reset', '-q', '--hard', commitA]);
    const commitD = await am(4);
    const third = await nightly(args);
    console.log(`night 3 (rewritten branch): ${third.seconds.toFixed(0)} s`);
    expect(third.exitCode, third.stderr).toBe(1);
    expect(third.json.bisections).toEqual([]);
    expect(JSON.stringify(third.json.notBisected)).toContain(`the branch was rewritten: ${commitB.slice(0, 12)}`);
    const comparison3 = readFileSync(join(third.json.dir, 'comparison.txt'), 'utf8').replace(/\s+/g, ' ');
    expect(comparison3).toContain(
      `Not bisected: - linux-git baseline, async-pf, ${GUP}: the branch was rewritten: ${commitB.slice(0, 12)} (run ${second.json.run}) is not an ancestor of ${commitD.slice(0, 12)}`,
    );
    const history3 = readFileSync(join(third.json.dir, 'history.txt'), 'utf8');
    expect(history3.replace(/\s+/g, ' ')).toContain('not bisected: the branch was rewritten');
    console.log(`whole test: ${((Date.now() - testStarted) / 1000).toFixed(0)} s`);
  });
});
