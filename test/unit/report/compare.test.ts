import { describe, expect, it } from 'vitest';
import { compareRuns, type ComparedCell, type Comparison } from '../../../src/report/compare.js';
import type { FigureRow, ReportInput } from '../../../src/records/index.js';
import { describeBucket } from '../../../src/explain/buckets.js';
import { renderers } from '../../../src/report/renderer.js';
import { comparisonJsonSchema } from '../../../src/report/render/json.js';
import {
  asyncPfMap,
  asyncPfPrefault,
  asyncPfTriedRetry,
  counts,
  explained,
  explainedNextRun,
  explainedRun,
  GUP,
  interruptedRun,
  nextRun,
  notOk,
  ok,
} from '../report/fixtures.js';

function run(id: string, rows: FigureRow[], extra: Partial<ReportInput> = {}): ReportInput {
  return {
    runId: id,
    experiment: 'default',
    startedAt: '2025-06-12T09:15:00.000Z',
    state: 'complete',
    kernels: ['6.12'],
    variants: ['baseline', 'early-break'],
    workloads: ['uffd-populate'],
    rows,
    provenance: [],
    ...extra,
  };
}

function only(comparison: Comparison, variant = 'baseline'): ComparedCell {
  const table = comparison.tables[0]!;
  return table.rows[0]!.cells[table.variants.indexOf(variant)]!;
}

const compare = (before: FigureRow, after: FigureRow | null): Comparison => compareRuns(run('a', [before]), run('b', after ? [after] : []), { function: GUP });

describe('compareRuns', () => {
  it('unchanged: "= 2", not changed', () => {
    const c = only(compare(ok('6.12', 'baseline', 'uffd-populate', 2, 3), ok('6.12', 'baseline', 'uffd-populate', 2, 3)));
    expect(c).toMatchObject({ text: '= 2', changed: false, figureChanged: false, statusChanged: false, newFailure: false });
  });

  it('a figure change is any difference in per_page beyond 1e-9; fixed and flags are not figures', () => {
    const c = only(compare(ok('6.12', 'baseline', 'uffd-populate', 2, 3), ok('6.12', 'baseline', 'uffd-populate', 1, 3)));
    expect(c).toMatchObject({ text: '2 → 1', changed: true, figureChanged: true, statusChanged: false, newFailure: false });
    const tiny = only(
      compare(ok('6.12', 'baseline', 'uffd-populate', 2, 3), ok('6.12', 'baseline', 'uffd-populate', 2 + 1e-12, 7, { flags: ['residual 0.1'] })),
    );
    expect(tiny).toMatchObject({ text: '= 2', changed: false });
    const small = only(compare(ok('6.12', 'baseline', 'uffd-populate', 2, 3), ok('6.12', 'baseline', 'uffd-populate', 2 + 1e-6, 3)));
    expect(small).toMatchObject({ changed: true, figureChanged: true });
  });

  it('a status change: ok → CRASHED is a new failure; CRASHED → HUNG is a change but not new', () => {
    const crashed = notOk('6.12', 'baseline', 'uffd-populate', 'crashed', 'not run: kernel BUG at mm/gup.c:1828!');
    expect(only(compare(ok('6.12', 'baseline', 'uffd-populate', 2, 3), crashed))).toMatchObject({
      text: '2 → CRASHED',
      changed: true,
      statusChanged: true,
      figureChanged: false,
      newFailure: true,
    });
    const hung = notOk('6.12', 'baseline', 'uffd-populate', 'hung', 'not run: no progress on the result channel for 60 s');
    expect(only(compare(crashed, hung))).toMatchObject({ text: 'CRASHED → HUNG', changed: true, statusChanged: true, newFailure: false });
    expect(only(compare(crashed, { ...crashed, reason: 'another reason' }))).toMatchObject({ text: '= CRASHED', changed: false });
    expect(only(compare(hung, ok('6.12', 'baseline', 'uffd-populate', 2, 3)))).toMatchObject({ text: 'HUNG → 2', changed: true, newFailure: false });
  });

  it('the same status over other sample counts is a status change: "1/3 hung → 2/3 hung"', () => {
    const one = notOk('6.12', 'baseline', 'uffd-populate', 'hung', 'x', counts({ ok: 2, hung: 1 }));
    const two = notOk('6.12', 'baseline', 'uffd-populate', 'hung', 'x', counts({ ok: 1, hung: 2 }));
    expect(only(compare(one, two))).toMatchObject({ text: '1/3 hung → 2/3 hung', changed: true, statusChanged: true, figureChanged: false, newFailure: false });
    expect(only(compare(one, one))).toMatchObject({ text: '= 1/3 hung', changed: false });
  });

  it('a cell missing in one run: ok → missing is a new failure, missing → 2 is a change', () => {
    const figure = ok('6.12', 'baseline', 'uffd-populate', 2, 3);
    expect(only(compare(figure, null))).toMatchObject({ text: '2 → missing', changed: true, statusChanged: true, newFailure: true });
    const appeared = compareRuns(run('a', []), run('b', [figure]), { function: GUP });
    expect(only(appeared)).toMatchObject({ text: 'missing → 2', changed: true, newFailure: false });
    expect(only(appeared, 'early-break')).toMatchObject({ text: '= missing', changed: false });
  });

  it('covers every kernel, variant and workload of either run, and says which run lacked them', () => {
    const a = run('a', [ok('6.12', 'baseline', 'uffd-populate', 2, 3)]);
    const b = run('b', [ok('6.12', 'baseline', 'uffd-populate', 2, 3), ok('6.1', 'continue', 'async-pf', 1, 1)], {
      kernels: ['6.1', '6.12'],
      variants: ['baseline', 'continue'],
      workloads: ['uffd-populate', 'async-pf'],
    });
    const comparison = compareRuns(a, b, { function: GUP });
    expect(comparison.tables.map((t) => t.kernel)).toEqual(['6.12', '6.1']);
    expect(comparison.tables[0]!.variants).toEqual(['baseline', 'early-break', 'continue']);
    expect(comparison.tables[0]!.rows.map((r) => r.workload)).toEqual(['uffd-populate', 'async-pf']);
    const appeared = comparison.changes.find((c) => c.kernel === '6.1' && c.variant === 'continue' && c.workload === 'async-pf');
    expect(appeared?.text).toBe('missing → 1');
    expect(appeared?.before.reason).toBe('not part of run a (kernel 6.1, variant continue, workload async-pf)');
  });

  it('lists every changed cell and counts changes and new failures (the fixtures: one night to the next)', () => {
    const comparison = compareRuns(interruptedRun, nextRun, { function: GUP });
    expect(comparison.counts).toEqual({ cells: 24, changed: 7, newFailures: 1 });
    expect(comparison.changes.map((c) => `${c.kernel} ${c.variant} ${c.workload}: ${c.text}${c.newFailure ? ' (new)' : ''}`)).toEqual([
      '6.1 early-break uffd-remote: 1.5 → 1',
      '6.1 early-break async-pf: 1/3 hung → 2',
      '6.1 continue uffd-populate: missing → 1',
      '6.1 continue uffd-populate --write: missing → CRASHED',
      '6.1 continue uffd-remote: missing → CRASHED',
      '6.1 continue async-pf: missing → CRASHED',
      '6.12 early-break async-pf: 2 → HUNG (new)',
    ]);
    expect(comparison.changes[6]!.after).toMatchObject({ status: 'hung', perPage: null, reason: 'not run: no progress on the result channel for 60 s' });
    // Unchanged although its flag went away.
    const table612 = comparison.tables[1]!;
    expect(table612.rows[2]!.cells[0]).toMatchObject({ text: '= 2', changed: false });
    expect(comparison.before.runId).toBe('default-20250612-091500');
    expect(comparison.after.state).toBe('complete');
  });

  it('explains, under each table, why a changed cell is not a number now', () => {
    const comparison = compareRuns(interruptedRun, nextRun, { function: GUP });
    expect(comparison.tables[1]!.notes).toEqual([
      { kind: 'status', marker: '', text: 'HUNG: no progress on the result channel for 60 s', cells: [{ workload: 'async-pf', variant: 'early-break' }] },
    ]);
  });

  it('without buckets in either run, names none', () => {
    expect(compareRuns(interruptedRun, nextRun, { function: GUP }).changes.map((c) => c.bucketChanges)).toEqual(Array(7).fill(null));
  });
});

describe('compareRuns with kexp explain buckets', () => {
  const comparison = compareRuns(explainedRun, explainedNextRun, { function: GUP });
  const retry = describeBucket(asyncPfTriedRetry);

  it('names the bucket behind a changed figure when both runs have buckets', () => {
    expect(comparison.changes.map((c) => [c.variant, c.workload, c.text, c.bucketChanges])).toEqual([
      ['baseline', 'async-pf', '3 → 2', [{ bucket: retry, before: 1, after: 0, delta: -1 }]],
    ]);
    // Unchanged cells with buckets on both sides: compared, nothing moved.
    expect(comparison.tables[0]!.rows[1]!.cells[1]).toMatchObject({ changed: false, bucketChanges: [] });
    // A crashed cell has no buckets: nothing to compare.
    expect(comparison.tables[0]!.rows[1]!.cells[2]).toMatchObject({ bucketChanges: null });
  });

  it('names none when only one run has buckets', () => {
    const bare = { ...explainedNextRun, rows: explainedNextRun.rows.map(({ explain: _explain, ...r }) => r) };
    expect(compareRuns(explainedRun, bare, { function: GUP }).changes.map((c) => c.bucketChanges)).toEqual([null]);
  });

  it('says so in the text, Markdown, HTML and JSON', () => {
    const text = renderers.text.render(comparison);
    expect(text).toContain(
      [
        '  6.12 baseline, async-pf: 3 → 2',
        '    -1/page:',
        '        FOLL_WRITE|FOLL_TOUCH|FOLL_TRIED|FOLL_REMOTE|FOLL_UNLOCKABLE,',
        '        pages=NULL, nr_pages=1, ret 1 from __get_user_pages_locked <',
        '        get_user_pages_remote < async_pf_execute (gone)',
      ].join('\n'),
    );
    expect(text.split('\n').filter((l) => l.length > 72)).toEqual([]);
    expect(renderers.markdown.render(comparison)).toContain('- 6.12 baseline, async-pf: 3 → 2\n  - -1/page: FOLL\\_WRITE');
    expect(renderers.html.render(comparison)).toContain(`<ul class="notes"><li>-1/page: ${retry.replace(/</g, '&lt;')} (gone)</li></ul>`);
    const json = JSON.parse(renderers.json.render(comparison));
    expect(comparisonJsonSchema.safeParse(json).success).toBe(true);
    expect(json.changes[0].bucketChanges).toEqual([{ bucket: retry, before: 1, after: 0, delta: -1, text: `-1/page: ${retry} (gone)` }]);
  });

  it("says when a changed cell's buckets do not add up", () => {
    const off = explained([asyncPfPrefault, asyncPfMap], false, ['sample 64 pages rep 0: the buckets add up to 129 calls, kprobe counted 130']);
    const after = {
      ...explainedNextRun,
      rows: explainedNextRun.rows.map((r) => (r.variant === 'baseline' && r.workload === 'async-pf' ? ok('6.12', 'baseline', 'async-pf', 2, 2, off) : r)),
    };
    const text = renderers.text.render(compareRuns(explainedRun, after, { function: GUP }));
    expect(text.replace(/\n\s+/g, ' ')).toContain(
      'after: the buckets do not add up to the counted total (sample 64 pages rep 0: the buckets add up to 129 calls, kprobe counted 130)',
    );
  });
});
