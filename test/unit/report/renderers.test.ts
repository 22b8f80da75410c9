import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKexpError } from '../../../src/core/errors.js';
import { buildTables } from '../../../src/report/model.js';
import { getRenderer, rendererNames, renderers } from '../../../src/report/renderer.js';
import { csvField, reportCsvColumns } from '../../../src/report/render/csv.js';
import { comparisonJsonSchema, jsonOutputSchemas, reportJsonSchema, statusSchema } from '../../../src/report/render/json.js';
import { escapeMarkdown } from '../../../src/report/render/markdown.js';
import { compareRuns } from '../../../src/report/compare.js';
import { statuses, type ReportInput } from '../../../src/records/index.js';
import { counts, GUP, interruptedRun, nextRun, notOk, ok, wideRun } from './fixtures.js';

const report = buildTables(interruptedRun, { function: GUP });
const comparison = compareRuns(interruptedRun, nextRun, { function: GUP });

describe('renderer registry', () => {
  it('has the five renderers by name', () => {
    expect(rendererNames.map((n) => [n, renderers[n].name, renderers[n].extension])).toEqual([
      ['text', 'text', 'txt'],
      ['markdown', 'markdown', 'md'],
      ['csv', 'csv', 'csv'],
      ['json', 'json', 'json'],
      ['html', 'html', 'html'],
    ]);
    expect(getRenderer('markdown')).toBe(renderers.markdown);
  });

  it('refuses an unknown name, listing the known ones', () => {
    let error: unknown;
    try {
      getRenderer('pdf');
    } catch (e) {
      error = e;
    }
    expect(isKexpError(error)).toBe(true);
    expect((error as Error).message).toBe('unknown report format "pdf"');
    expect((error as { hint?: string }).hint).toBe('use one of: text, markdown, csv, json, html');
  });
});

describe('a cell that is not ok never renders a number', () => {
  // Rows that are not ok but carry figures anyway (they should not): a sentinel that must appear nowhere.
  const SENTINEL = 97531;
  const poisoned: ReportInput = {
    ...interruptedRun,
    rows: interruptedRun.rows.map((r) => (r.status === 'ok' ? r : { ...r, per_page: SENTINEL, fixed: SENTINEL, residual: SENTINEL })),
  };
  poisoned.rows.push({ ...notOk('6.1', 'continue', 'uffd-remote', 'skipped', 'no /dev/kvm'), per_page: SENTINEL });
  poisoned.rows.push({ ...ok('6.1', 'continue', 'uffd-populate', SENTINEL, SENTINEL), statusCounts: counts({ ok: 1, failed: 2 }) });

  for (const name of rendererNames) {
    it(`${name}: report and comparison`, () => {
      const tables = buildTables(poisoned, { function: GUP });
      expect(renderers[name].render(tables)).not.toContain(String(SENTINEL));
      expect(renderers[name].render(compareRuns(poisoned, nextRun, { function: GUP }))).not.toContain(String(SENTINEL));
      expect(renderers[name].render(compareRuns(nextRun, poisoned, { function: GUP }))).not.toContain(String(SENTINEL));
    });
  }

  it('and the mixed-status cell reads "1/3 hung" in every format that shows cells (CSV has its status and counts)', () => {
    for (const name of rendererNames.filter((n) => n !== 'csv')) expect(renderers[name].render(report)).toContain('1/3 hung');
  });
});

describe('csv', () => {
  it('quotes fields as RFC 4180 says', () => {
    expect(['plain', 'a,b', 'say "hi"', 'two\nlines', ''].map(csvField)).toEqual(['plain', '"a,b"', '"say ""hi"""', '"two\nlines"', '']);
  });

  it('has one row per kernel × workload × variant, the documented columns, CRLF line ends', () => {
    const csv = renderers.csv.render(report);
    expect(csv.endsWith('\r\n')).toBe(true);
    const lines = csv.split('\r\n').slice(0, -1);
    expect(lines[0]).toBe(reportCsvColumns.join(','));
    expect(lines).toHaveLength(1 + 2 * 4 * 3);
    expect(lines).toContain('6.12,uffd-remote,baseline,__get_user_pages,ok,2,5,0,3,3,,"collectors disagree at 256 pages (rep 0): ftrace 517, kprobe 516"');
    expect(lines).toContain('6.1,async-pf,early-break,__get_user_pages,hung,,,,2,3,1 of 3 samples hung: not run: no progress on the result channel for 60 s,');
  });
});

describe('json', () => {
  it('is valid against its schema, report and comparison', () => {
    expect(reportJsonSchema.safeParse(JSON.parse(renderers.json.render(report))).success).toBe(true);
    expect(comparisonJsonSchema.safeParse(JSON.parse(renderers.json.render(comparison))).success).toBe(true);
    expect(reportJsonSchema.safeParse(JSON.parse(renderers.json.render(buildTables(wideRun, { function: GUP })))).success).toBe(true);
  });

  it('knows the statuses of records/status.ts', () => {
    expect([...statusSchema.options]).toEqual([...statuses]);
  });

  it('has its JSON Schemas in schemas/, generated from the same source (UPDATE_GOLDEN=1 rewrites them)', () => {
    for (const [name, schema] of Object.entries(jsonOutputSchemas())) {
      const file = join('schemas', name);
      const text = `${JSON.stringify(schema, null, 2)}\n`;
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });
});

describe('markdown', () => {
  it('escapes what would be markup or break a table', () => {
    expect(escapeMarkdown('a|b *c* __d__ <e>\nf')).toBe('a\\|b \\*c\\* \\_\\_d\\_\\_ \\<e\\> f');
  });
});

describe('html', () => {
  const hostile: ReportInput = {
    ...interruptedRun,
    experiment: '<script>alert(1)</script>',
    workloads: ['uffd-populate --pattern="<b>&amp;"'],
    rows: [
      ok('6.12', 'baseline', 'uffd-populate --pattern="<b>&amp;"', 2, 3, { flags: ['<img src=x onerror=alert(1)>'] }),
      notOk('6.12', 'continue', 'uffd-populate --pattern="<b>&amp;"', 'crashed', 'BUG: <unknown> & "quoted"'),
    ],
    provenance: ['host <evil>'],
  };
  const html = renderers.html.render(buildTables(hostile, { function: GUP }));

  it('escapes all text', () => {
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<evil>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('BUG: &lt;unknown&gt; &amp; &quot;quoted&quot;');
  });

  it('is one file that needs nothing from outside', () => {
    for (const doc of [renderers.html.render(report), renderers.html.render(comparison), html]) {
      expect(doc.startsWith('<!DOCTYPE html>')).toBe(true);
      // Attribute values are escaped text; what matters is the attributes themselves.
      expect(doc.replace(/"[^"]*"/g, '""')).not.toMatch(/<[^>]*\s(?:src|href)\s*=/i);
      expect(doc).not.toMatch(/url\((?!#)/);
      expect(doc).not.toMatch(/@import|<script|<link/i);
      // The only URL is the SVG namespace, which is a name, not a fetch.
      expect(doc.match(/https?:\/\/[^"\s]+/g)?.filter((u) => u !== 'http://www.w3.org/2000/svg') ?? []).toEqual([]);
    }
  });

  it('gives each kernel a chart with a title, axis labels and a placeholder for every cell that is not a figure', () => {
    const doc = renderers.html.render(report);
    const charts = doc.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(charts).toHaveLength(2);
    const chart612 = charts[1]!;
    expect(chart612).toContain('<title id="chart-1-title">6.12: __get_user_pages calls per faulted page</title>');
    expect(chart612).toContain('>__get_user_pages calls per page</text>');
    expect(chart612).toContain('>workload</text>');
    expect(chart612.match(/<g class="bar">/g)).toHaveLength(10);
    expect(chart612.match(/<g class="placeholder crashed">/g)).toHaveLength(2);
    expect(chart612.match(/class="status"[^>]*>CRASHED</g)).toHaveLength(2);
    for (const v of ['baseline', 'early-break', 'continue']) expect(chart612).toContain(`>${v}</text></g>`);
  });

  it('highlights changed cells of a comparison', () => {
    const doc = renderers.html.render(comparison);
    expect(doc).toContain('<td class="hung changed new-failure"');
    expect(doc.match(/<td class="[^"]*\bchanged\b/g)).toHaveLength(comparison.counts.changed);
  });
});
