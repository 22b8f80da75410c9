import { describe, expect, it } from 'vitest';
import { buildHistory } from '../../../../src/report/history/build.js';
import { renderHistory } from '../../../../src/report/history/render.js';
import { GUP } from '../fixtures.js';
import { expectGolden } from '../golden.js';
import { skippedRun, watchRuns } from './fixtures.js';

const history = buildHistory('watch', watchRuns, { functions: [GUP], skipped: [skippedRun] });

describe('history renderers (golden files)', () => {
  it('history.txt', () => expectGolden('history/history.txt', renderHistory('text', history)));
  it('history.json', () => expectGolden('history/history.json', renderHistory('json', history)));
  it('history.html', () => expectGolden('history/history.html', renderHistory('html', history)));
});

describe('what the history shows', () => {
  it('text: no line wider than 72 columns, the step marked, the commit the bisection found named', () => {
    const text = renderHistory('text', history);
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(72);
    expect(text).toMatch(/watch-20261203-023000\s+9f8e7d6c5b4a\s+2!/);
    expect(text.replace(/\s+/g, ' ')).toContain(
      'first bad commit 5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f mm/gup: break early on VM_FAULT_RETRY for prefaults',
    );
    expect(text).toContain('Left out (1):');
  });

  it('html: self-contained (no script, nothing fetched), one trend chart per cell, a crashed point drawn as its status', () => {
    const html = renderHistory('html', history);
    expect(html).not.toMatch(/<script|<link|src=|href=|url\(http/i);
    expect(html.match(/<svg /g)).toHaveLength(history.series.length);
    expect(html).toContain('<g class="placeholder crashed">');
    expect(html).toMatch(/<text class="status"[^>]*>CRASHED<\/text>/);
    // A crashed point is never on the line: the polyline of async-pf's __get_user_pages has the three ok nights.
    const chart = html.split('<figure').find((f) => f.includes('<figcaption>async-pf · __get_user_pages'))!;
    expect(chart.match(/<polyline[^>]*points="([^"]+)"/)![1]!.split(' ')).toHaveLength(3);
    expect(chart).toContain('class="step found"');
  });

  it('json: a point that is not ok has no figure', () => {
    const data = JSON.parse(renderHistory('json', history)) as { schema: string; series: { points: { cell: { status: string; perPage: number | null } }[] }[] };
    expect(data.schema).toBe('kexp/history@1');
    const notOk = data.series.flatMap((s) => s.points).filter((p) => p.cell.status !== 'ok');
    expect(notOk.length).toBeGreaterThan(0);
    for (const p of notOk) expect(p.cell.perPage).toBeNull();
  });

  it('an empty history says so', () => {
    const empty = buildHistory('watch', []);
    expect(renderHistory('text', empty)).toContain('no run to show');
    expect(renderHistory('html', empty)).toContain('No figure or status changed');
  });
});
