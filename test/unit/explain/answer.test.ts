import { callGroup as group } from '../../helpers/explain.js';
import { describe, expect, it } from 'vitest';
import { explainCell, explainChanges, explainJson, explainText, explainVariant, type ExplainedCell } from '../../../src/explain/answer.js';
import type { CallGroup, SampleRecord } from '../../../src/records/index.js';
import { explainQuestion } from '../../../src/explain/question.js';

const FN = '__get_user_pages';

function sample(workload: string, pages: number, groups: CallGroup[], total: number, over: Partial<SampleRecord> = {}): SampleRecord {
  return {
    workload,
    args: [],
    pages,
    rep: 0,
    status: 'ok',
    counts: { kprobe: { [FN]: total } },
    result: null,
    explain: { [FN]: { mode: 'return', groups, dropped: 0, problems: [] } },
    ...over,
  };
}

const tried = group({ flags: 0x220001, flagNames: ['FOLL_WRITE', 'FOLL_TRIED', 'FOLL_UNLOCKABLE'], ret: 1 });
// baseline: a first try and a FOLL_TRIED retry per page; early-break: the first try only
const baselineSamples = [64, 128].map((n) => sample('async-pf', n, [group({ calls: n }), { ...tried, calls: n }], 2 * n));
const earlyBreakSamples = [64, 128].map((n) => sample('async-pf', n, [group({ calls: n })], n));
const cell = (samples: SampleRecord[], over: Partial<ExplainedCell> = {}): ExplainedCell => ({
  outcome: { status: 'ok', samples },
  explained: { [FN]: 'mm/gup.c:1427' },
  notes: [],
  ...over,
});

describe("explain's answer", () => {
  it('explains each workload of a cell, and only the functions whose definition was found', () => {
    const mixed = [...baselineSamples, ...[64, 128].map((n) => sample('uffd-populate', n, [group({ calls: n })], n, { args: ['--write'] }))];
    const e = explainCell(cell(mixed), [FN, 'handle_userfault'], 3);
    expect(e.map((x) => [x.workload, x.function])).toEqual([
      ['async-pf', FN],
      ['uffd-populate --write', FN],
    ]);
    expect(explainCell(cell(mixed, { explained: {} }), [FN], 3)).toEqual([]);
  });

  it('a variant is a finding when the VM or a sample is not ok, or its buckets do not add up; skipped is not', () => {
    expect(explainVariant('baseline', cell(baselineSamples), [FN], 3).findings).toBe(false);
    const skipped: SampleRecord = { workload: 'async-pf', args: [], pages: 256, rep: 0, status: 'skipped', counts: {}, result: null };
    expect(explainVariant('baseline', cell([...baselineSamples, skipped]), [FN], 3).findings).toBe(false);
    const skippedAsFailed: SampleRecord = { ...skipped, status: 'failed' };
    expect(explainVariant('baseline', cell([...baselineSamples, skippedAsFailed]), [FN], 3).findings).toBe(true);
    const failed = [baselineSamples[0]!, { ...baselineSamples[1]!, status: 'failed' as const }];
    expect(explainVariant('baseline', cell(failed), [FN], 3).findings).toBe(true);
    const crashed = explainVariant('baseline', cell(baselineSamples, { outcome: { status: 'crashed', reason: 'panic', samples: baselineSamples } }), [FN], 3);
    expect(crashed.findings).toBe(true);
    expect(crashed.explanation).toMatchObject({ variant: 'baseline', status: 'crashed', reason: 'panic', definitions: { [FN]: 'mm/gup.c:1427' } });
    // a total the buckets miss one call of
    const short = baselineSamples.map((s) => ({ ...s, counts: { kprobe: { [FN]: (s.counts.kprobe?.[FN] ?? 0) + 1 } } }));
    expect(explainVariant('baseline', cell(short), [FN], 3).findings).toBe(true);
  });

  it('compares every variant after the first with the first, naming the bucket a variant removed', () => {
    const results = [
      explainVariant('baseline', cell(baselineSamples), [FN], 3).explanation,
      explainVariant('early-break', cell(earlyBreakSamples), [FN], 3).explanation,
    ];
    const changes = explainChanges(results);
    expect(changes.map((c) => [c.workload, c.function, c.from, c.to])).toEqual([['async-pf', FN, 'baseline', 'early-break']]);
    expect(explainChanges(results.slice(0, 1))).toEqual([]);
    expect(explainChanges([])).toEqual([]);

    const json = explainJson('6.12', 3, results, changes);
    expect(Object.keys(json)).toEqual(['kernel', 'depth', 'variants', 'changes']);
    expect(json.changes[0]?.total).toEqual({ before: 2, after: 1 });
    expect(json.changes[0]?.buckets).toHaveLength(1);
    expect(json.changes[0]?.buckets[0]).toMatchObject({ before: 1, after: 0, delta: -1 });
    expect(json.changes[0]?.buckets[0]?.bucket).toContain('FOLL_TRIED');

    const text = explainText('6.12', results, changes);
    expect(text[0]).toBe('\n6.12/baseline: ok');
    expect(text[1]).toBe(`  ${FN}: parameters from mm/gup.c:1427`);
    expect(text).toContain('\nwhat changed:');
    expect(text.indexOf('\n6.12/early-break: ok')).toBeGreaterThan(0);
    expect(explainText('6.12', results.slice(0, 1), [])).not.toContain('\nwhat changed:');
  });

  it('asks the kprobe collector for the totals the buckets must add up to; functions named must be probed, defaults may be missing', () => {
    const runs = [{ workload: 'async-pf', args: [], sizes: [64, 128] }];
    expect(explainQuestion(runs, 2, [FN], ['a', 'b'])).toEqual({
      plan: { runs, repetitions: 2, collectors: ['kprobe'], functions: [FN] },
      functions: [FN],
      strict: true,
    });
    expect(explainQuestion(runs, 1, undefined, ['a', 'b'])).toMatchObject({ functions: ['a', 'b'], strict: false, plan: { functions: ['a', 'b'] } });
  });
});
