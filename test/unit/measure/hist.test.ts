import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHist } from '../../../src/measure/hist.js';
import { decodeHist } from '../../../src/explain/buckets.js';
import { findDefinition, parseFlagDefinitions } from '../../../src/explain/cdecl.js';
import { explainProbe } from '../../../src/explain/probes.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '..', 'explain', 'fixtures', name), 'utf8');

describe('hist output', () => {
  it('parses 6.1 entry-probe sections: stacktrace key, flags, totals', () => {
    const sections = parseHist(fixture('hist-6.1-baseline-async-pf-64.txt'));
    expect(sections.map((s) => s.name)).toEqual(['kexpx0p0', 'kexpx0p1', 'kexpx0p2', 'kexpx0p3']);
    const first = sections[0]!;
    expect(first.filter).toBe('pages == 0 && nr_pages == 1');
    expect(first.entries.map((e) => [e.fields, e.hitcount])).toEqual([
      [{ gup_flags: 10243 }, 64],
      [{ gup_flags: 8195 }, 64],
    ]);
    expect(first.entries[0]?.stack.slice(3, 6)).toEqual(['__get_user_pages+0x5/0x269', '__get_user_pages_remote+0x1b3/0x222', 'async_pf_execute+0x86/0x150']);
    expect([first.hits, first.entriesTotal, first.dropped]).toEqual([128, 2, 0]);
  });

  it('parses 6.12 return-probe sections with a signed return value', () => {
    const sections = parseHist(fixture('hist-6.12-baseline-async-pf-64.txt'));
    expect(sections).toHaveLength(6);
    const withRet = sections.flatMap((s) => s.entries).filter((e) => 'ret' in e.fields);
    expect(new Set(withRet.map((e) => e.fields.ret))).toEqual(new Set([0, 1]));
    expect(sections.every((s) => s.dropped === 0)).toBe(true);
  });

  it('reads a non-zero dropped count', () => {
    const [section] = parseHist(fixture('hist-6.12-dropped.txt'));
    expect(section?.dropped).toBe(383);
    expect(section?.entries).toHaveLength(128);
    expect(section?.entries.reduce((n, e) => n + e.hitcount, 0)).toBe(section?.hits);
  });
});

describe("decoding a sample's hist into call groups", () => {
  const gup612 = findDefinition(fixture('6.12/mm/gup.c'), '__get_user_pages', 'mm/gup.c')!;
  const flags612 = parseFlagDefinitions([
    { path: 'include/linux/mm_types.h', text: fixture('6.12/include/linux/mm_types.h') },
    { path: 'mm/internal.h', text: fixture('6.12/mm/internal.h') },
  ]);

  it("pairs each trigger with its section by name, and decodes flags with that kernel's values", () => {
    const decoded = decodeHist(explainProbe(gup612), 0, 'return', fixture('hist-6.12-baseline-async-pf-64.txt'), flags612);
    expect(decoded.problems).toEqual([]);
    const retry = decoded.groups.find((g) => g.flagNames?.includes('FOLL_TRIED'));
    expect(retry).toMatchObject({ pagesNull: true, nrPages: '1', ret: 1, calls: 64 });
    expect(retry?.stack.slice(0, 2)).toEqual(['get_user_pages_remote', 'async_pf_execute']);
    expect(decoded.groups.reduce((n, g) => n + g.calls, 0)).toBe(195);
  });

  it('fails a sample whose hist dropped events', () => {
    const probe = explainProbe(gup612);
    // the capture's trigger is kexpx0r1's; the other sections are missing, which is said too
    const decoded = decodeHist(probe, 0, 'return', fixture('hist-6.12-dropped.txt'), flags612);
    expect(decoded.dropped).toBe(383);
    expect(decoded.problems).toContain('__get_user_pages: the hist maps dropped 383 events (more distinct keys than the map holds)');
    expect(decoded.problems.some((p) => /no hist section for the trigger kexpx0r0/.test(p))).toBe(true);
  });
});
