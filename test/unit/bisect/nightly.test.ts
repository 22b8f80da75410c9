/**
 * The nightly's bisection bookkeeping on real files, without building or booting: a bisection the
 * last nightly left behind is resumed from its record (here one that already holds its answer, so
 * no step runs), the changes that share its commit stay with it, one that does not gets a
 * bisection of its own, and every state is saved in the run's nightly.json.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultOf, settleBisections, unfinishedBisections } from '../../../src/bisect/nightly.js';
import type { BisectRecord } from '../../../src/bisect/run.js';
import { cacheLayout } from '../../../src/core/paths.js';
import { silentLogger } from '../../../src/core/log.js';
import { readNightlyRecord, writeNightlyRecord, type NightlyRecord } from '../../../src/results/nightly.js';
import { RunStore, type RunManifest } from '../../../src/results/store.js';
import { ArtifactStore } from '../../../src/store/store.js';
import { repoRoot } from '../../helpers/kexp.js';
import { c1, c2, cm } from '../report/history/fixtures.js';

const GUP = '__get_user_pages';
const HUF = 'handle_userfault';

function step(verdict: 'good' | 'bad', gup: number, huf: number) {
  return {
    verdict,
    reason: `${GUP}.per_page = ${gup}`,
    value: gup,
    seconds: 4,
    status: 'ok' as const,
    figures: [
      { workload: 'async-pf', function: GUP, status: 'ok' as const, per_page: gup, fixed: 1 },
      { workload: 'async-pf', function: HUF, status: 'ok' as const, per_page: huf, fixed: 0 },
    ],
  };
}

describe("settling the nightly's bisections", () => {
  it('resumes a recorded bisection, keeps the changes that share its commit, and gives the others their own', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kexp-nightly-root-'));
    mkdirSync(join(root, 'kernels'));
    symlinkSync(join(repoRoot, 'kernels', 'fragments'), join(root, 'kernels', 'fragments'));
    symlinkSync(join(repoRoot, 'patches'), join(root, 'patches'));
    const repo = join(root, 'not-a-repository');
    writeFileSync(
      join(root, 'kernels', 'linux-git.json'),
      JSON.stringify({ name: 'linux-git', series: '6.1', source: { type: 'git', path: repo, ref: 'main' }, fragments: ['base'] }),
    );
    const results = mkdtempSync(join(tmpdir(), 'kexp-nightly-results-'));
    const experiment = JSON.stringify({ name: 'watch', kernels: ['linux-git'], variants: ['baseline'], workloads: [{ name: 'async-pf' }], sizes: [64, 128] });
    const manifest = (id: string): RunManifest => ({
      schema: 'kexp/run@1',
      id,
      experiment: 'watch',
      experimentFile: 'watch.json',
      state: 'complete',
      startedAt: `2026-12-0${id.slice(-1)}T02:30:00.000Z`,
      updatedAt: '',
      kexp: { version: '0', commit: null },
      host: { hostname: 'h', kernel: 'k', cpus: 2, memoryMiB: 1 },
      qemu: null,
      artifacts: { kernels: {} },
      cells: {},
      plannedCells: [],
    });
    RunStore.create(results, 'watch-1', experiment, manifest('watch-1'));
    const run = RunStore.create(results, 'watch-2', experiment, manifest('watch-2'));

    const bisectId = 'bisect-git-20261202-024500-abcdef';
    const plan = {
      runs: [{ workload: 'async-pf', args: [], sizes: [64, 128] }],
      repetitions: 1,
      collectors: ['ftrace', 'kprobe'],
      functions: [GUP, HUF],
      events: [],
    };
    const answered: BisectRecord = {
      schema: 'kexp/bisect@1',
      id: bisectId,
      request: {
        source: { mode: 'git', repo, good: c1, bad: c2 },
        kernel: 'linux-git',
        plan: plan as BisectRecord['request']['plan'],
        predicate: `${GUP}.per_page > 2.5`,
        accel: 'auto',
        variant: 'baseline',
      },
      revisions: [
        { index: 0, id: c1, label: `${c1.slice(0, 12)} Documentation: note 1` },
        { index: 1, id: cm, label: `${cm.slice(0, 12)} mm/gup: break early on VM_FAULT_RETRY for prefaults` },
        { index: 2, id: c2, label: `${c2.slice(0, 12)} Documentation: note 3` },
      ],
      steps: { 0: step('good', 3, 1), 2: step('bad', 2, 2), 1: step('bad', 2, 2) },
      state: 'incomplete',
    };
    mkdirSync(join(results, bisectId));
    writeFileSync(join(results, bisectId, 'bisect.json'), JSON.stringify(answered));

    const change = (fn: string, before: string, after: string, predicate: string) => ({ function: fn, before, after, kind: 'figure' as const, predicate });
    const record: NightlyRecord = {
      schema: 'kexp/nightly@1',
      run: 'watch-2',
      previous: 'watch-1',
      sources: {},
      notes: [],
      bisections: [
        {
          kernel: 'linux-git',
          variant: 'baseline',
          workload: 'async-pf',
          good: { run: 'watch-1', commit: c1 },
          bad: { run: 'watch-2', commit: c2 },
          changes: [
            change(GUP, '3', '2', `${GUP}.per_page > 2.5`),
            change(HUF, '1', '2', `${HUF}.per_page < 1.5`),
            // Not among the figures the steps kept: it cannot be shown to share the commit.
            change('kvm/kvm_async_pf_ready', '1', '2', 'kvm/kvm_async_pf_ready.per_page < 1.5'),
          ],
          state: 'running',
          bisectId,
        },
      ],
    };
    writeNightlyRecord(run.dir, record);
    expect(unfinishedBisections(results, 'watch', 'watch-3').map((u) => u.record.run)).toEqual(['watch-2']);

    const layout = cacheLayout(mkdtempSync(join(tmpdir(), 'kexp-nightly-cache-')));
    const env = {
      root,
      layout,
      store: new ArtifactStore(layout.store, layout.locks),
      logger: silentLogger(),
      signal: new AbortController().signal,
      resultsDir: results,
    };
    const saved: string[] = [];
    await settleBisections(env, run.dir, record, () => saved.push(record.bisections.map((b) => b.state).join(',')));

    const [first, second] = record.bisections;
    expect(first).toMatchObject({
      state: 'done',
      result: { kind: 'found', commit: cm, subject: 'mm/gup: break early on VM_FAULT_RETRY for prefaults', steps: 3 },
    });
    expect(first!.changes.map((c) => c.function)).toEqual([GUP, HUF]);
    // The third change got a bisection of its own; it could not start (the tree is not a git repository), and says so.
    expect(second).toMatchObject({
      state: 'done',
      changes: [{ function: 'kvm/kvm_async_pf_ready' }],
      result: { kind: 'error', summary: expect.stringContaining('is not a commit in') },
    });
    expect(saved[0]).toBe('running');
    expect(readNightlyRecord(run.dir).record).toEqual(record);
    expect(unfinishedBisections(results, 'watch', 'watch-3')).toEqual([]);
  });

  it('turns a bisection record into what the nightly keeps: the commit, its subject, the steps', () => {
    const base = {
      schema: 'kexp/bisect@1' as const,
      id: 'b',
      request: {} as BisectRecord['request'],
      state: 'complete' as const,
      steps: { 0: step('good', 3, 1), 1: step('bad', 2, 1) },
    };
    const revisions = [
      { index: 0, id: c1, label: `${c1.slice(0, 12)} one` },
      { index: 1, id: c2, label: `${c2.slice(0, 12)} two: the subject` },
    ];
    expect(resultOf({ ...base, revisions, result: { kind: 'found', index: 1, summary: 's' } })).toEqual({
      kind: 'found',
      commit: c2,
      subject: 'two: the subject',
      summary: 's',
      steps: 2,
    });
    expect(resultOf({ ...base, revisions, result: { kind: 'ambiguous', candidates: [0, 1], summary: 's' } })).toMatchObject({
      kind: 'ambiguous',
      candidates: [{ commit: c1, subject: 'one' }, { commit: c2 }],
    });
    expect(resultOf({ ...base, revisions })).toMatchObject({ kind: 'error' });
  });
});
