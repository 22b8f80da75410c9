import { describe, expect, it } from 'vitest';
import { allSteps, artifactCommit, buildHistory, type HistorySeries } from '../../../../src/report/history/build.js';
import { GUP, ok } from '../fixtures.js';
import { c1, c2, c3, cm, HUF, KERNEL, night1, night2, skippedRun, watchRuns } from './fixtures.js';

const history = buildHistory('watch', watchRuns, { functions: [GUP], skipped: [skippedRun] });

function series(workload: string, fn: string): HistorySeries {
  const found = history.series.find((s) => s.workload === workload && s.function === fn);
  if (!found) throw new Error(`no series ${workload} ${fn}`);
  return found;
}

describe('the history model', () => {
  it("orders the runs oldest first and the series by kernel, variant, function (the report's first), workload", () => {
    expect(history.runs.map((r) => r.id)).toEqual(['watch-20261201-023000', 'watch-20261202-023000', 'watch-20261203-023000', 'watch-20261204-023000']);
    expect(history.series.map((s) => `${s.function} ${s.workload}`)).toEqual([
      `${GUP} async-pf`,
      `${GUP} uffd-populate`,
      `${HUF} async-pf`,
      `${HUF} uffd-populate`,
    ]);
    expect(history.skipped).toEqual([skippedRun]);
  });

  it("gives each point its run's commit, and a point that is not ok its status, never a number", () => {
    const gup = series('async-pf', GUP);
    expect(gup.points.map((p) => [p.runId.slice(-15, -7), p.commit, p.cell.label])).toEqual([
      ['20261201', c1, '3'],
      ['20261202', c1, '3'],
      ['20261203', c2, '2'],
      ['20261204', c3, 'CRASHED'],
    ]);
    for (const s of history.series) {
      for (const p of s.points) if (p.cell.status !== 'ok') expect(p.cell.perPage, `${s.workload} ${s.function} ${p.runId}`).toBeNull();
    }
    // A row that says ok over a crashed sample is not ok.
    expect(series('uffd-populate', GUP).points.at(-1)!.cell).toMatchObject({ status: 'crashed', label: '1/2 crashed', perPage: null });
  });

  it('makes a step of each change between measured points, with the runs and commits on either side', () => {
    const steps = series('async-pf', GUP).steps;
    expect(steps.map((s) => s.text)).toEqual(['3 → 2', '2 → CRASHED']);
    expect(steps[0]).toMatchObject({
      before: { run: 'watch-20261202-023000', commit: c1, label: '3' },
      after: { run: 'watch-20261203-023000', commit: c2, label: '2' },
      figureChanged: true,
      newFailure: false,
      sameCommit: false,
    });
    expect(steps[1]).toMatchObject({ statusChanged: true, newFailure: true });
  });

  it('shows a missing point (planned, not measured) but makes no step of it', () => {
    const uffd = series('uffd-populate', GUP);
    expect(uffd.points.map((p) => p.cell.label)).toEqual(['2', 'missing', '2', '1/2 crashed']);
    expect(uffd.steps.map((s) => [s.before.run, s.after.run, s.text])).toEqual([['watch-20261203-023000', 'watch-20261204-023000', '2 → 1/2 crashed']]);
  });

  it('leaves out the runs that did not count a function at all, rather than calling them missing', () => {
    expect(series('async-pf', HUF).points.map((p) => p.runId)).toEqual(['watch-20261202-023000', 'watch-20261203-023000', 'watch-20261204-023000']);
    expect(series('uffd-populate', HUF).points.map((p) => p.cell.label)).toEqual(['missing', '1', '1']);
  });

  it('attaches what the nightly found: the first bad commit, a bisection still running, a note', () => {
    const [step, crash] = series('async-pf', GUP).steps;
    expect(step!.bisection).toMatchObject({ state: 'done', predicate: `${GUP}.per_page > 2.5`, result: { kind: 'found', commit: cm }, shared: 1 });
    expect(crash!.bisection).toMatchObject({ state: 'running', bisectId: 'bisect-git-20261204-024500-d4e5f6', shared: 2 });
    expect(series('async-pf', HUF).steps[0]!.bisection).toMatchObject({ state: 'running', predicate: 'status != crashed', shared: 2 });
    expect(series('uffd-populate', GUP).steps[0]).toMatchObject({ note: expect.stringContaining('booted fine') });
    expect(series('uffd-populate', GUP).steps[0]!.bisection).toBeUndefined();
  });

  it('says when both sides of a step built the same commit', () => {
    const again = {
      ...night2,
      runId: 'watch-20261202-030000',
      startedAt: '2026-12-02T03:00:00.000Z',
      state: 'complete' as const,
      rows: [ok(KERNEL, 'baseline', 'async-pf', 4, 1)],
    };
    const h = buildHistory('watch', [
      { input: night1, commits: { [`${KERNEL}/baseline`]: c1 } },
      { input: again, commits: { [`${KERNEL}/baseline`]: c1 } },
    ]);
    expect(h.series[0]!.steps[0]).toMatchObject({ text: '3 → 4', sameCommit: true });
  });

  it('lists every step newest first', () => {
    expect(allSteps(history).map(({ series: s, step }) => `${s.function} ${s.workload} ${step.text}`)).toEqual([
      `${GUP} async-pf 2 → CRASHED`,
      `${GUP} uffd-populate 2 → 1/2 crashed`,
      `${HUF} async-pf 1 → CRASHED`,
      `${GUP} async-pf 3 → 2`,
    ]);
  });

  it("reads a git artifact's commit from its own field or its source id, and nothing else", () => {
    expect(artifactCommit({ commit: c1 })).toBe(c1);
    expect(artifactCommit({ sourceId: `git-${c2}` })).toBe(c2);
    expect(artifactCommit({ sourceId: `tar-${'ab'.repeat(32)}` })).toBeNull();
    expect(artifactCommit({ commit: 'main' })).toBeNull();
    expect(artifactCommit(undefined)).toBeNull();
  });
});
