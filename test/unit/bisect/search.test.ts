import { describe, expect, it } from 'vitest';
import { bisect, nextStep, type Verdict } from '../../../src/bisect/search.js';

/** A fake history: revision i is bad from `firstBad` on; some revisions cannot be tested. */
function history(
  count: number,
  firstBad: number,
  skipped: number[] = [],
): { revisions: string[]; test: (r: string, i: number) => Promise<Verdict>; tested: number[] } {
  const tested: number[] = [];
  return {
    revisions: Array.from({ length: count }, (_, i) => `r${i}`),
    tested,
    test: async (_r, i) => {
      tested.push(i);
      if (skipped.includes(i)) return 'skip';
      return i >= firstBad ? 'bad' : 'good';
    },
  };
}

describe('bisect search', () => {
  it('finds the first bad revision in a range, testing the ends first, in about log2(n) steps', async () => {
    for (const firstBad of [1, 2, 7, 31, 63]) {
      const h = history(64, firstBad);
      const result = await bisect(h.revisions, h.test);
      expect(result.step).toEqual({ kind: 'found', index: firstBad });
      expect(h.tested.slice(0, 2)).toEqual([0, 63]);
      expect(h.tested.length).toBeLessThanOrEqual(2 + 7);
    }
  });

  it('steps around skipped revisions', async () => {
    const h = history(16, 9, [7, 12]);
    const result = await bisect(h.revisions, h.test);
    expect(result.step).toEqual({ kind: 'found', index: 9 });
    expect(result.trail.filter((t) => t.verdict === 'skip').length).toBeGreaterThan(0);
  });

  it('says which revisions hide the change when all of them were skipped', async () => {
    const h = history(10, 6, [4, 5]);
    const result = await bisect(h.revisions, h.test);
    expect(result.step).toEqual({ kind: 'ambiguous', candidates: [4, 5, 6] });
  });

  it('refuses ends that cannot be tested or test the wrong way', () => {
    expect(nextStep(5, new Map([[0, 'skip']]))).toMatchObject({ kind: 'error', message: expect.stringContaining('good end (revision 0) cannot be tested') });
    expect(
      nextStep(
        5,
        new Map<number, Verdict>([
          [0, 'good'],
          [4, 'skip'],
        ]),
      ),
    ).toMatchObject({ kind: 'error', message: expect.stringContaining('bad end') });
    expect(nextStep(5, new Map([[0, 'bad']]))).toMatchObject({ kind: 'error', message: expect.stringContaining('tested bad') });
    expect(nextStep(1, new Map())).toMatchObject({ kind: 'error' });
  });

  it('names inconsistent answers (good after bad)', () => {
    const verdicts = new Map<number, Verdict>([
      [0, 'good'],
      [9, 'bad'],
      [4, 'bad'],
      [6, 'good'],
    ]);
    expect(nextStep(10, verdicts)).toEqual({ kind: 'error', message: expect.stringContaining('revision 6 tested good after revision 4 tested bad') });
  });

  it('resumes from known verdicts without retesting them', async () => {
    const h = history(32, 20);
    const known = new Map<number, Verdict>([
      [0, 'good'],
      [31, 'bad'],
      [16, 'good'],
    ]);
    const result = await bisect(h.revisions, h.test, known);
    expect(result.step).toEqual({ kind: 'found', index: 20 });
    expect(h.tested).not.toContain(0);
    expect(h.tested).not.toContain(16);
    expect(h.tested.every((i) => i > 16)).toBe(true);
  });

  it('ends at once for two adjacent revisions', async () => {
    const h = history(2, 1);
    expect((await bisect(h.revisions, h.test)).step).toEqual({ kind: 'found', index: 1 });
  });
});
