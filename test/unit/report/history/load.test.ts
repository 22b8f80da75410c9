/**
 * The history's reader on real run folders: a damaged run is left out and named, a damaged cell
 * record leaves its cell missing, a damaged nightly.json loses only its bisections, and runs of
 * other experiments stay out.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cellRecord, uffdSamples } from '../../../helpers/records.js';
import { describe, expect, it } from 'vitest';
import { historyExperiment, loadHistory } from '../../../../src/report/history/load.js';
import { writeNightlyRecord } from '../../../../src/results/nightly.js';
import { RunStore, type CellRecord, type RunManifest } from '../../../../src/results/store.js';
import { c1, c2, nightly3 } from './fixtures.js';

const experiment = (name: string): string =>
  JSON.stringify({
    name,
    kernels: ['linux-git'],
    variants: ['baseline'],
    workloads: [{ name: 'async-pf' }],
    sizes: [64, 128],
    functions: ['__get_user_pages'],
  });

function manifest(id: string, name: string, startedAt: string, commit: string | null): RunManifest {
  return {
    schema: 'kexp/run@1',
    id,
    experiment: name,
    experimentFile: `${name}.json`,
    state: 'running',
    startedAt,
    updatedAt: '',
    kexp: { version: '0', commit: null },
    host: { hostname: 'h', kernel: 'k', cpus: 2, memoryMiB: 1 },
    qemu: null,
    artifacts: { kernels: commit ? { 'linux-git/baseline': { key: 'k', sourceId: `git-${commit}` } } : {} },
    cells: { 'linux-git_baseline_r0': { kernel: 'linux-git', variant: 'baseline', rep: 0, state: 'pending' } },
    plannedCells: ['linux-git_baseline_r0'],
  };
}

/** async-pf at 64 and 128 pages, `perPage` calls of __get_user_pages per page plus one, both collectors agreeing. */
function cell(perPage: number): CellRecord {
  const counts = (pages: number) => ({ __get_user_pages: perPage * pages + 1 });
  return {
    ...cellRecord({ id: 'linux-git_baseline_r0', kernel: 'linux-git', traceable: { function: { __get_user_pages: true } } }),
    samples: uffdSamples((pages) => ({ ftrace: counts(pages), kprobe: counts(pages) }), [64, 128], { ok: true }).map((s) => ({ ...s, workload: 'async-pf' })),
  };
}

function run(results: string, id: string, name: string, startedAt: string, commit: string | null, perPage: number): RunStore {
  const store = RunStore.create(results, id, experiment(name), manifest(id, name, startedAt, commit));
  store.recordCell(cell(perPage));
  const m = store.manifest();
  m.state = 'complete';
  store.writeManifest(m);
  return store;
}

describe('loading the history of an experiment', () => {
  it("leaves a damaged run out with a warning, shows the rest, and reads each run's commit", () => {
    const results = mkdtempSync(join(tmpdir(), 'kexp-history-'));
    run(results, 'watch-1', 'watch', '2026-12-01T02:30:00.000Z', c1, 3);
    const damaged = run(results, 'watch-2', 'watch', '2026-12-02T02:30:00.000Z', c1, 3);
    writeFileSync(damaged.manifestFile, '{"schema": "kexp/run@1", "id": ');
    const third = run(results, 'watch-3', 'watch', '2026-12-03T02:30:00.000Z', c2, 2);
    writeNightlyRecord(third.dir, {
      ...nightly3,
      run: 'watch-3',
      previous: 'watch-1',
      bisections: nightly3.bisections.map((b) => ({ ...b, kernel: 'linux-git', good: { run: 'watch-1', commit: c1 }, bad: { run: 'watch-3', commit: c2 } })),
    });
    run(results, 'other-1', 'other', '2026-12-02T03:00:00.000Z', c1, 5);

    const { history, warnings } = loadHistory(results, 'watch');
    expect(history.runs.map((r) => r.id)).toEqual(['watch-1', 'watch-3']);
    expect(history.skipped.map((s) => s.run)).toEqual(['watch-2']);
    expect(warnings[0]).toMatch(/^run watch-2 is left out of the history: .*manifest\.json: truncated or not JSON/);
    const [series] = history.series;
    expect(series!.points.map((p) => [p.cell.label, p.commit])).toEqual([
      ['3', c1],
      ['2', c2],
    ]);
    expect(series!.steps[0]!.bisection?.result).toMatchObject({ kind: 'found' });
  });

  it('shows a run whose cell record is damaged with that cell missing, and goes on without a damaged nightly.json', () => {
    const results = mkdtempSync(join(tmpdir(), 'kexp-history-'));
    run(results, 'watch-1', 'watch', '2026-12-01T02:30:00.000Z', c1, 3);
    const second = run(results, 'watch-2', 'watch', '2026-12-02T02:30:00.000Z', c2, 3);
    writeFileSync(join(second.cellDir('linux-git_baseline_r0'), 'cell.json'), '{"schema":');
    mkdirSync(second.dir, { recursive: true });
    writeFileSync(join(second.dir, 'nightly.json'), '{"schema": "kexp/nightly@1"}');
    const { history, warnings } = loadHistory(results, 'watch');
    expect(history.runs.map((r) => r.id)).toEqual(['watch-1', 'watch-2']);
    expect(history.series[0]!.points.map((p) => p.cell.label)).toEqual(['3', 'missing']);
    expect(history.series[0]!.steps).toEqual([]);
    expect(warnings.join('\n')).toMatch(/nightly\.json: not a valid nightly record: run: .*; the nightly's bisections of this run are left out/);
    expect(warnings.join('\n')).toMatch(/cell\.json: truncated or not JSON .*the history shows it as missing/);
  });

  it("picks the experiment: a name its runs record, an experiment file's name, or the latest run's", () => {
    const results = mkdtempSync(join(tmpdir(), 'kexp-history-'));
    run(results, 'watch-1', 'watch', '2026-12-01T02:30:00.000Z', c1, 3);
    run(results, 'other-1', 'other', '2026-12-02T02:30:00.000Z', null, 3);
    expect(historyExperiment('.', results, undefined)).toBe('other');
    expect(historyExperiment('.', results, 'watch')).toBe('watch');
    const file = join(results, 'watch-experiment.json');
    writeFileSync(file, experiment('watch'));
    expect(historyExperiment('.', results, file)).toBe('watch');
    expect(() => historyExperiment('.', results, 'nosuch')).toThrow(/no runs of experiment "nosuch" .*/);
    expect(() => historyExperiment('.', mkdtempSync(join(tmpdir(), 'kexp-history-')), undefined)).toThrow(/no runs in/);
  });
});
