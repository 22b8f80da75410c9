import { describe, expect, it } from 'vitest';
import { describeBucket } from '../../../src/explain/buckets.js';
import { buildTables, type Cell } from '../../../src/report/model.js';
import { rendererNames, renderers } from '../../../src/report/renderer.js';
import { reportJsonSchema } from '../../../src/report/render/json.js';
import { STACK_WIDTH } from '../../../src/report/render/stack.js';
import { MAIL_WIDTH } from '../../../src/report/render/layout.js';
import type { ReportInput } from '../../../src/records/index.js';
import { asyncPfMap, asyncPfPrefault, asyncPfTriedRetry, explained, explainedRun, GUP, interruptedRun, ok, populateTriedRetry, wideRun } from './fixtures.js';

const report = buildTables(explainedRun, { function: GUP });
const table = report.tables[0]!;
const TRIED_RETRY =
  'FOLL_WRITE|FOLL_TOUCH|FOLL_TRIED|FOLL_REMOTE|FOLL_UNLOCKABLE, pages=NULL, nr_pages=1, ret 1 from __get_user_pages_locked < get_user_pages_remote < async_pf_execute';

function cellOf(workload: string, variant: string): Cell {
  return table.rows.find((r) => r.workload === workload)!.cells[table.variants.indexOf(variant)]!;
}

describe('buckets in the report model', () => {
  it("carries a cell's buckets only when the cell is ok", () => {
    expect(cellOf('async-pf', 'baseline').explain?.buckets).toEqual([asyncPfPrefault, asyncPfTriedRetry, asyncPfMap]);
    // The crashed cell's row has buckets (from the sample that finished): they are not the cell's.
    expect(explainedRun.rows.find((r) => r.variant === 'continue' && r.workload === 'async-pf')?.explain).toBeDefined();
    expect(cellOf('async-pf', 'continue')).toMatchObject({ status: 'crashed', explain: null });
    expect(buildTables(interruptedRun, { function: GUP }).tables.flatMap((t) => t.rows.flatMap((r) => r.cells.map((c) => c.explain)))).toEqual(
      Array(24).fill(null),
    );
  });

  it('names, per workload and variant, the buckets that changed from the first variant', () => {
    expect(table.whatChanged?.baseline).toBe('baseline');
    expect(
      table.whatChanged?.cells.map((n) => [n.workload, n.variant, n.changes?.map((c) => [c.bucket, c.before, c.after, c.delta]) ?? null, n.addsUp]),
    ).toEqual([
      ['uffd-populate', 'early-break', [[describeBucket(populateTriedRetry), 1, 0, -1]], true],
      ['uffd-populate', 'continue', [[describeBucket(populateTriedRetry), 1, 0, -1]], false],
      ['async-pf', 'early-break', [[TRIED_RETRY, 1, 0, -1]], true],
    ]);
  });

  it('has nothing to say about a table without buckets', () => {
    for (const t of buildTables(interruptedRun, { function: GUP }).tables) expect(t.whatChanged).toBeNull();
  });

  it('names a new bucket, and a baseline without buckets to compare with', () => {
    const input: ReportInput = {
      ...explainedRun,
      workloads: ['async-pf'],
      rows: [
        ok('6.12', 'baseline', 'async-pf', 2, 1, explained([asyncPfPrefault, asyncPfMap])),
        ok('6.12', 'early-break', 'async-pf', 3, 1, explained([asyncPfPrefault, asyncPfTriedRetry, asyncPfMap])),
      ],
    };
    const text = renderers.text.render(buildTables(input, { function: GUP }));
    expect(text).toContain('async-pf, early-break vs baseline: +1/page:');
    expect(text.replace(/\n\s+/g, ' ')).toContain(`+1/page: ${TRIED_RETRY} (new)`);
    const noBaseline = buildTables({ ...input, rows: [input.rows[1]!] }, { function: GUP });
    expect(renderers.text.render(noBaseline)).toContain('async-pf, early-break: no baseline buckets to compare with');
  });
});

describe('the "what changed" paragraph', () => {
  const text = renderers.text.render(report);

  it('reads, under the table, bucket by bucket against the first variant', () => {
    expect(text).toContain(
      [
        'continue, async-pf: 2/3 crashed: kernel BUG at mm/gup.c:1828!',
        '',
        'What changed vs baseline, bucket by bucket (calls per page):',
        '  uffd-populate, early-break vs baseline: -1/page:',
        '      FOLL_TOUCH|FOLL_TRIED|FOLL_UNLOCKABLE|FOLL_MADV_POPULATE,',
        '      pages=NULL, nr_pages=1, ret 1 from __get_user_pages_locked <',
        '      faultin_page_range < madvise_populate (gone)',
        '  uffd-populate, continue vs baseline: -1/page:',
        '      FOLL_TOUCH|FOLL_TRIED|FOLL_UNLOCKABLE|FOLL_MADV_POPULATE,',
        '      pages=NULL, nr_pages=1, ret 1 from __get_user_pages_locked <',
        '      faultin_page_range < madvise_populate (gone)',
        '  uffd-populate, continue: the buckets do not add up to the counted',
        '      total (sample 256 pages rep 0: the buckets add up to 259 calls,',
        '      kprobe counted 260)',
        '  async-pf, early-break vs baseline: -1/page:',
        '      FOLL_WRITE|FOLL_TOUCH|FOLL_TRIED|FOLL_REMOTE|FOLL_UNLOCKABLE,',
        '      pages=NULL, nr_pages=1, ret 1 from __get_user_pages_locked <',
        '      get_user_pages_remote < async_pf_execute (gone)',
        '',
        'Each figure is the per-page slope',
      ].join('\n'),
    );
  });

  it('keeps within 72 columns, with long variant names and long callers too', () => {
    expect(text.split('\n').filter((l) => l.length > MAIL_WIDTH)).toEqual([]);
    const longCaller = { ...asyncPfTriedRetry, caller: ['x'.repeat(90), 'kvm_arch_async_page_present_queued_with_a_long_name'] };
    const wide: ReportInput = {
      ...wideRun,
      rows: wideRun.rows.map((r, i) =>
        r.status === 'ok' ? { ...r, explain: explained(i % 2 === 0 ? [asyncPfPrefault, longCaller] : [asyncPfMap], i % 3 !== 0).explain! } : r,
      ),
    };
    const wideText = renderers.text.render(buildTables(wide, { function: GUP }));
    expect(wideText).toContain('What changed vs baseline');
    // The baseline's own buckets that do not add up are named too (the first row's: i = 0).
    expect(wideText).toContain('  uffd-populate, baseline: the buckets do not add up to the counted');
    expect(wideText.split('\n').filter((l) => l.length > MAIL_WIDTH)).toEqual([]);
  });

  it('says that no bucket changed when none did', () => {
    const same: ReportInput = {
      ...explainedRun,
      variants: ['baseline', 'early-break'],
      rows: explainedRun.rows.filter((r) => r.workload === 'async-pf' && r.variant === 'baseline').flatMap((r) => [r, { ...r, variant: 'early-break' }]),
    };
    expect(renderers.text.render(buildTables(same, { function: GUP }))).toContain('\nWhat changed vs baseline, bucket by bucket: no bucket changed.\n');
  });

  it('is in the Markdown too, and in no format of a report without buckets', () => {
    const md = renderers.markdown.render(report);
    expect(md).toContain('**What changed vs baseline, bucket by bucket (calls per page):**');
    expect(md).toContain('- async-pf, early-break vs baseline: -1/page: FOLL\\_WRITE\\|FOLL\\_TOUCH\\|FOLL\\_TRIED');
    for (const name of rendererNames) {
      const out = renderers[name].render(buildTables(interruptedRun, { function: GUP }));
      expect(out).not.toMatch(/what changed|bucket/i);
    }
  });
});

describe('html: a stacked bar per cell with buckets', () => {
  const html = renderers.html.render(report);
  const cellHtml = (workload: string, variant: string): string => {
    const row = html.match(new RegExp(`<tr><th scope="row">${workload}</th>(.*?)</tr>`, 's'))![1]!;
    return row.match(/<td[\s\S]*?<\/td>/g)![table.variants.indexOf(variant)]!;
  };
  const widths = (cell: string): number[] => [...cell.matchAll(/<rect x="[\d.]+" y="0" width="([\d.]+)"/g)].map((m) => Number(m[1]));

  it('draws one segment per bucket, widths proportional to per_page on one scale for the table', () => {
    // The widest bar is the 3-per-page baseline: 120 px, so 40 px per call per page.
    expect(widths(cellHtml('async-pf', 'baseline'))).toEqual([40, 40, 40]);
    expect(widths(cellHtml('async-pf', 'early-break'))).toEqual([40, 40]);
    expect(widths(cellHtml('uffd-populate', 'baseline'))).toEqual([40, 40]);
    expect(widths(cellHtml('async-pf', 'baseline')).reduce((a, b) => a + b)).toBe(STACK_WIDTH);
    expect(cellHtml('async-pf', 'continue')).not.toContain('<svg');
    expect(html.match(/<svg class="stack"/g)).toHaveLength(5);
  });

  it('gives each segment its bucket and figure on hover, the same colour as the same bucket elsewhere, and a legend', () => {
    const base = cellHtml('async-pf', 'baseline');
    expect(base).toContain(`<title>1 per page, fixed 0: ${TRIED_RETRY.replace(/</g, '&lt;')}</title>`);
    expect(base).toContain('aria-label="baseline, async-pf: 3 buckets, 1 + 1 + 1 per page"');
    const colour = (cell: string, n: number): string => [...cell.matchAll(/fill="(#[0-9A-F]{6})"/g)][n]![1]!;
    // early-break lacks the middle one: its second segment is the baseline's third bucket.
    expect(colour(cellHtml('async-pf', 'early-break'), 0)).toBe(colour(base, 0));
    expect(colour(cellHtml('async-pf', 'early-break'), 1)).toBe(colour(base, 2));
    expect(html.match(/<ul class="bucket-legend">[\s\S]*?<\/ul>/)![0].match(/<li>/g)).toHaveLength(5);
    expect(html).toContain('<p><strong>What changed vs baseline, bucket by bucket (calls per page):</strong></p>');
  });

  it('warns, in the cell, when the buckets do not add up', () => {
    expect(cellHtml('uffd-populate', 'continue')).toContain(
      '<span class="bucket-warning" title="sample 256 pages rep 0: the buckets add up to 259 calls, kprobe counted 260">⚠ buckets do not add up</span>',
    );
    expect(html.match(/class="bucket-warning"/g)).toHaveLength(1);
  });

  it('stays one self-contained file', () => {
    expect(html.replace(/"[^"]*"/g, '""')).not.toMatch(/<[^>]*\s(?:src|href)\s*=/i);
    expect(html).not.toMatch(/<script|<link|@import/i);
  });
});

describe('json', () => {
  const json = JSON.parse(renderers.json.render(report));

  it('is valid against its schema, with buckets per cell and the changes per table', () => {
    expect(reportJsonSchema.safeParse(json).success).toBe(true);
    const baseline = json.tables[0].rows[1].cells[0];
    expect(baseline.explain.buckets.map((b: { description: string; per_page: number }) => [b.description, b.per_page])).toEqual(
      [asyncPfPrefault, asyncPfTriedRetry, asyncPfMap].map((b) => [describeBucket(b), 1]),
    );
    expect(json.tables[0].rows[1].cells[2]).not.toHaveProperty('explain');
    expect(json.tables[0].whatChanged.cells[2]).toEqual({
      workload: 'async-pf',
      variant: 'early-break',
      changes: [{ bucket: TRIED_RETRY, before: 1, after: 0, delta: -1, text: `-1/page: ${TRIED_RETRY} (gone)` }],
      adds_up: true,
      problems: [],
    });
  });
});
