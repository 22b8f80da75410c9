import { describe, expect, it } from 'vitest';
import { appendBisections, notifySummary } from '../../../src/report/nightly.js';
import { renderers } from '../../../src/report/renderer.js';
import { compareRuns } from '../../../src/report/compare.js';
import { GUP } from './fixtures.js';
import { cm, night2, night3, nightly3, nightly4 } from './history/fixtures.js';

const comparison = compareRuns(night2, night3, { function: GUP });
const recordPath = (id: string): string => `results/${id}/bisect.json`;

describe('the bisections under a comparison', () => {
  it('text: the first bad commit with its subject and record, within 72 columns', () => {
    const text = appendBisections('text', renderers.text.render(comparison), nightly3, recordPath);
    expect(text.startsWith(renderers.text.render(comparison))).toBe(true);
    const added = text.slice(renderers.text.render(comparison).length);
    expect(added.replace(/\s+/g, ' ')).toContain(
      `Bisections (kexp nightly --bisect): - linux-git baseline, async-pf: __get_user_pages 3 → 2, 1a2b3c4d5e6f..9f8e7d6c5b4a first bad commit ${cm} mm/gup: break early on VM_FAULT_RETRY for prefaults (3 steps) judged on __get_user_pages.per_page > 2.5 record: results/bisect-git-20261203-024500-a1b2c3/bisect.json`,
    );
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(72);
  });

  it('notes the changes it did not bisect, and a bisection not finished', () => {
    const text = appendBisections('text', renderers.text.render(comparison), nightly4, recordPath).replace(/\s+/g, ' ');
    expect(text).toContain('not finished: the next kexp nightly --bisect resumes it');
    expect(text).toContain('Not bisected: - linux-git baseline, uffd-populate, __get_user_pages: the workload failed in a kernel that booted fine');
  });

  it('json keeps the comparison and adds the bisections; html adds a section before the footer; csv stays a table', () => {
    const json = JSON.parse(appendBisections('json', renderers.json.render(comparison), nightly3, recordPath)) as Record<string, unknown>;
    expect(json).toMatchObject(JSON.parse(renderers.json.render(comparison)) as Record<string, unknown>);
    expect(json.bisections).toEqual(nightly3.bisections);
    const html = appendBisections('html', renderers.html.render(comparison), nightly3, recordPath);
    expect(html.indexOf('<section class="bisections">')).toBeLessThan(html.indexOf('<footer>'));
    expect(html).toContain(cm);
    expect(appendBisections('csv', renderers.csv.render(comparison), nightly3, recordPath)).toBe(renderers.csv.render(comparison));
    expect(appendBisections('text', 'x\n', { ...nightly3, bisections: [], notes: [] }, recordPath)).toBe('x\n');
  });
});

describe('what --notify hands to its command', () => {
  it('starts with a Subject line naming the change and the first bad commit, then says where the files are', () => {
    const summary = notifySummary({
      experiment: 'watch',
      run: night3.runId,
      previous: night2.runId,
      summary: '1 of 2 cells changed, 0 new failures.',
      changes: ['linux-git baseline, async-pf: 3 → 2'],
      otherChanges: [],
      findings: false,
      record: nightly3,
      resumed: [],
      files: { comparison: 'results/x/comparison.txt', history: 'results/x/history.html' },
      recordPath,
    });
    const [subject, blank, ...rest] = summary.split('\n');
    expect(subject).toBe('Subject: kexp nightly watch: 1 change, first bad commit 5e6f7a8b9c0d mm/gup: break early on VM_FAULT_RETRY for prefaults');
    expect(blank).toBe('');
    expect(rest.join('\n')).toContain('History: results/x/history.html');
  });
});
