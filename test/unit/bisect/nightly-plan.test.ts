import { describe, expect, it } from 'vitest';
import { groupChanges, predicateFor, sharesCulprit, thresholdText } from '../../../src/bisect/nightly-plan.js';
import type { CellChange } from '../../../src/report/nightly-comparison.js';
import { judge, parsePredicate } from '../../../src/bisect/predicate.js';
import { cellFromRow, missingCell } from '../../../src/report/model.js';
import { counts, GUP, notOk, ok } from '../report/fixtures.js';

const at = { kernel: 'linux-git', workload: 'async-pf', variant: 'baseline', function: GUP };
const figure = (perPage: number) => cellFromRow(ok('linux-git', 'baseline', 'async-pf', perPage, 1), at);
const failed = (status: 'crashed' | 'hung' | 'failed' | 'skipped', reason = 'not run: kernel BUG at mm/gup.c:1210!') =>
  cellFromRow(notOk('linux-git', 'baseline', 'async-pf', status, reason), at);
const change = (before: CellChange['before'], after: CellChange['after'], fn = GUP): CellChange => ({
  kernel: 'linux-git',
  variant: 'baseline',
  workload: 'async-pf',
  function: fn,
  before,
  after,
});

describe('the predicate of a changed cell', () => {
  it('judges a figure against the midpoint, on the side the later run went', () => {
    expect(predicateFor(change(figure(3), figure(2)))).toEqual({ kind: 'figure', predicate: `${GUP}.per_page > 2.5` });
    expect(predicateFor(change(figure(2), figure(3)))).toEqual({ kind: 'figure', predicate: `${GUP}.per_page < 2.5` });
    // The two runs' own figures are judged good and bad by it.
    const p = parsePredicate(`${GUP}.per_page > 2.5`);
    const step = (perPage: number) => ({
      status: 'ok' as const,
      figures: [{ workload: 'async-pf', function: GUP, status: 'ok' as const, per_page: perPage, fixed: 1 }],
    });
    expect([judge(p, step(3), 'async-pf').verdict, judge(p, step(2), 'async-pf').verdict]).toEqual(['good', 'bad']);
  });

  it('writes a threshold without an exponent, strictly between the two figures', () => {
    expect(thresholdText(3, 2)).toBe('2.5');
    expect(thresholdText(1, 1.5)).toBe('1.3');
    expect(thresholdText(0.0000012, 0.0000042)).toBe('0.000003');
    expect(thresholdText(2, 2.0000000001)).toBeNull();
    const t = Number(thresholdText(1.001, 1.002));
    expect(t).toBeGreaterThan(1.001);
    expect(t).toBeLessThan(1.002);
  });

  it("judges a cell that started crashing or hanging on the boot's status", () => {
    expect(predicateFor(change(figure(2), failed('crashed')))).toEqual({ kind: 'status', predicate: 'status != crashed' });
    expect(predicateFor(change(figure(2), failed('hung')))).toEqual({ kind: 'status', predicate: 'status != hung' });
    expect(predicateFor(change(figure(2), failed('failed')), ['failed'])).toEqual({ kind: 'status', predicate: 'status == ok' });
  });

  it('does not bisect what no step can see, and says why', () => {
    expect(predicateFor(change(figure(2), failed('failed', 'the workload said: page 3 has the wrong content')), ['ok', 'ok'])).toMatchObject({
      note: expect.stringContaining('booted fine'),
    });
    expect(predicateFor(change(figure(2), failed('failed', 'build failed: patch does not apply')))).toMatchObject({
      note: expect.stringContaining('did not build'),
    });
    expect(predicateFor(change(failed('crashed'), figure(2)))).toMatchObject({ note: expect.stringContaining('recovered') });
    expect(predicateFor(change(figure(2), missingCell(at, 'not measured')))).toMatchObject({ note: expect.stringContaining('not measured') });
    const mixed = cellFromRow({ ...ok('linux-git', 'baseline', 'async-pf', 2, 1), statusCounts: counts({ ok: 1, hung: 1 }) }, at);
    expect(predicateFor(change(failed('crashed'), mixed))).toMatchObject({ note: expect.stringContaining('not ok before either') });
  });
});

describe('changes into bisections', () => {
  it('makes one bisection per kernel, variant and workload, the first change judged', () => {
    const groups = groupChanges([
      { change: change(figure(3), figure(2)), kind: 'figure', predicate: `${GUP}.per_page > 2.5` },
      { change: { ...change(figure(1), figure(2), 'handle_userfault') }, kind: 'figure', predicate: 'handle_userfault.per_page < 1.5' },
      { change: { ...change(figure(2), figure(1)), workload: 'uffd-populate' }, kind: 'figure', predicate: `${GUP}.per_page > 1.5` },
    ]);
    expect(groups.map((g) => [g.workload, g.changes.map((c) => c.function)])).toEqual([
      ['async-pf', [GUP, 'handle_userfault']],
      ['uffd-populate', [GUP]],
    ]);
    expect(groups[0]!.changes[0]).toEqual({ function: GUP, before: '3', after: '2', kind: 'figure', predicate: `${GUP}.per_page > 2.5` });
  });

  it("lets a change share the commit found only if that commit's parent is good and the commit bad for it too", () => {
    const step = (gup: number, huf: number) => ({
      status: 'ok' as const,
      figures: [
        { workload: 'async-pf', function: GUP, status: 'ok' as const, per_page: gup, fixed: 1 },
        { workload: 'async-pf', function: 'handle_userfault', status: 'ok' as const, per_page: huf, fixed: 0 },
      ],
    });
    const huf = { function: 'handle_userfault', before: '1', after: '2', kind: 'figure' as const, predicate: 'handle_userfault.per_page < 1.5' };
    expect(sharesCulprit(huf, `${GUP}.per_page > 2.5`, step(3, 1), step(2, 2), 'async-pf')).toBe(true);
    // handle_userfault changed at another commit: it needs its own bisection.
    expect(sharesCulprit(huf, `${GUP}.per_page > 2.5`, step(3, 2), step(2, 2), 'async-pf')).toBe(false);
    // A step that kept nothing to judge on (a record from before steps kept figures) shares nothing.
    expect(sharesCulprit(huf, `${GUP}.per_page > 2.5`, undefined, step(2, 2), 'async-pf')).toBe(false);
    // The same predicate shares by definition (a crash seen through two functions).
    expect(sharesCulprit({ ...huf, kind: 'status', predicate: 'status != crashed' }, 'status != crashed', undefined, undefined, 'async-pf')).toBe(true);
  });
});
