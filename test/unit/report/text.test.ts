import { describe, expect, it } from 'vitest';
import { buildTables } from '../../../src/report/model.js';
import { layoutTable, MAIL_WIDTH, shorten, wrap } from '../../../src/report/render/layout.js';
import { textRenderer } from '../../../src/report/render/text.js';
import { compareRuns } from '../../../src/report/compare.js';
import type { ReportInput } from '../../../src/records/index.js';
import { GUP, interruptedRun, nextRun, notOk, ok, wideRun } from './fixtures.js';

function expectMailWidth(text: string): void {
  const long = text.split('\n').filter((line) => line.length > MAIL_WIDTH);
  expect(long).toEqual([]);
}

describe('text renderer', () => {
  it('keeps every line within 72 columns', () => {
    expectMailWidth(textRenderer.render(buildTables(interruptedRun, { function: GUP })));
    expectMailWidth(textRenderer.render(compareRuns(interruptedRun, nextRun, { function: GUP })));
  });

  it('keeps within 72 columns with five long variant names, by splitting the table and repeating the workload column', () => {
    const text = textRenderer.render(buildTables(wideRun, { function: GUP }));
    expectMailWidth(text);
    const headerRules = text.split('\n').filter((l) => /^-{8,} +-/.test(l));
    expect(headerRules.length).toBeGreaterThan(1);
    // Each part repeats the workload column.
    expect(text.match(/^async-pf /gm)).toHaveLength(headerRules.length);
    expect(text.match(/^workload /gm)).toHaveLength(headerRules.length);
  });

  it('stays within 72 columns whatever the names: an unbreakable workload, a long function, a long kernel', () => {
    const input: ReportInput = {
      ...wideRun,
      kernels: ['6.12.0-rc7-next-20241125-with-a-very-long-local-version-string'],
      workloads: ['x'.repeat(90), 'uffd-populate'],
      variants: [...wideRun.variants, 'v'.repeat(80)],
      rows: [],
    };
    const fn = `tracepoint_group_${'y'.repeat(60)}/event`;
    input.rows = input.variants.flatMap((variant) =>
      input.workloads.map((workload) => ({ ...ok(input.kernels[0]!, variant, workload, 123456.789, 1), function: fn })),
    );
    input.rows.push({ ...notOk(input.kernels[0]!, 'v'.repeat(80), 'uffd-populate', 'failed', 'z'.repeat(300)), function: fn });
    expectMailWidth(textRenderer.render(buildTables(input, { function: fn })));
  });

  it('lines figures up when some carry a marker', () => {
    const lines = layoutTable({
      firstHeader: 'workload',
      headers: ['baseline'],
      rows: [
        { first: 'a', cells: ['2 '] },
        { first: 'b', cells: ['1*'] },
      ],
    });
    expect(lines).toEqual(['workload  baseline', '--------  --------', `a${' '.repeat(15)}2`, `b${' '.repeat(15)}1*`]);
  });

  it('reads the 6.12 table as a reply would show it', () => {
    const text = textRenderer.render(buildTables(interruptedRun, { function: GUP }));
    expect(text).toContain(
      [
        '6.12: __get_user_pages calls per faulted page',
        '',
        'workload               baseline  early-break  continue',
        '---------------------  --------  -----------  --------',
        'uffd-populate                2             1         1',
        'uffd-populate --write        2             1         1',
        'uffd-remote                  2*            1   CRASHED',
        'async-pf                     3             2   CRASHED',
      ].join('\n'),
    );
  });

  it('marks changed cells of a comparison with a trailing "!"', () => {
    const text = textRenderer.render(compareRuns(interruptedRun, nextRun, { function: GUP }));
    expect(text).toContain('async-pf                    = 3    2 → HUNG!  = CRASHED');
    expect(text).toContain('6.12 early-break, async-pf: 2 → HUNG (new failure)');
  });
});

describe('wrap and shorten', () => {
  it('wraps at spaces, with an indent after the first line', () => {
    expect(wrap('a bb ccc dddd', 6, '  ')).toEqual(['a bb', '  ccc', '  dddd']);
  });
  it('breaks a word longer than a line after a dash where it can', () => {
    expect(wrap('early-break-without-foll-tried', 12)).toEqual(['early-break-', 'without-', 'foll-tried']);
    expect(wrap('x'.repeat(10), 4)).toEqual(['xxxx', 'xxxx', 'xx']);
  });
  it('shortens to the first line, at a word boundary', () => {
    expect(shorten('kernel BUG at mm/gup.c:1828!', 100)).toBe('kernel BUG at mm/gup.c:1828!');
    expect(shorten('one two three four', 12)).toBe('one two...');
    expect(shorten('first line\nsecond line', 100)).toBe('first line...');
  });
});
