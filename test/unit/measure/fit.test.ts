import { describe, expect, it } from 'vitest';
import { fitPerPage } from '../../../src/measure/fit.js';

describe('per-page fit', () => {
  it('separates per-page from fixed calls (6.12 baseline, uffd-populate: 131 at 64, 259 at 128)', () => {
    expect(
      fitPerPage([
        { pages: 64, calls: 131 },
        { pages: 128, calls: 259 },
      ]),
    ).toEqual({ perPage: 2, fixed: 3, residual: 0, points: 2, sizes: 2, flags: [] });
  });

  it('uses every repetition and stays exact when they agree', () => {
    const points = [64, 128, 256].flatMap((pages) => [0, 1, 2].map(() => ({ pages, calls: 3 * pages + 5 })));
    expect(fitPerPage(points)).toMatchObject({ perPage: 3, fixed: 5, residual: 0, points: 9, sizes: 3, flags: [] });
  });

  it('flags a non-integral slope', () => {
    const fit = fitPerPage([
      { pages: 64, calls: 100 },
      { pages: 128, calls: 196 },
    ]);
    expect('error' in fit).toBe(false);
    if (!('error' in fit)) {
      expect(fit.perPage).toBe(1.5);
      expect(fit.flags).toEqual(['non-integral per-page figure 1.5']);
    }
  });

  it('flags a residual when samples do not lie on one line', () => {
    const fit = fitPerPage([
      { pages: 64, calls: 131 },
      { pages: 128, calls: 259 },
      { pages: 128, calls: 260 },
    ]);
    if ('error' in fit) throw new Error(fit.error);
    expect(fit.residual).toBeGreaterThan(0);
    expect(fit.flags.some((f) => f.startsWith('residual'))).toBe(true);
  });

  it('refuses to fit one size', () => {
    expect(
      fitPerPage([
        { pages: 64, calls: 131 },
        { pages: 64, calls: 131 },
      ]),
    ).toEqual({ error: expect.stringContaining('two or more sizes') });
    expect(fitPerPage([])).toEqual({ error: 'no samples' });
  });
});
