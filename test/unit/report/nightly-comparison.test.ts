import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rendererNames, renderers } from '../../../src/report/renderer.js';
import { compareAllFunctions, comparisonIfReadable, nightlyVerdict, otherChangeText, writeComparison } from '../../../src/report/nightly-comparison.js';
import { GUP, HUF, writeRun } from './run-dirs.js';

describe("kexp nightly's comparison", () => {
  const results = mkdtempSync(join(tmpdir(), 'kexp-nightly-cmp-'));
  const before = writeRun(results, { id: 'x-20261126-000000', perPage: { baseline: { [GUP]: 2, [HUF]: 1 }, 'early-break': { [GUP]: 1, [HUF]: 1 } } });
  // the report's function is unchanged; handle_userfault steps in early-break
  const after = writeRun(results, { id: 'x-20261127-000000', perPage: { baseline: { [GUP]: 2, [HUF]: 1 }, 'early-break': { [GUP]: 1, [HUF]: 2 } } });

  it("finds the changes of every counted function, not only the report's", () => {
    const { comparison, damaged, changes } = compareAllFunctions(before, after);
    expect(damaged).toEqual([]);
    expect(comparison.function).toBe(GUP);
    expect(comparison.counts.changed).toBe(0);
    expect(changes).toHaveLength(1);
    const [change] = changes;
    expect(change).toMatchObject({ kernel: '6.12', variant: 'early-break', workload: 'uffd-populate', function: HUF });
    expect(otherChangeText(change!)).toBe('6.12 early-break, uffd-populate, handle_userfault: 1 → 2');
    // an unchanged run against itself: nothing
    expect(compareAllFunctions(before, before).changes).toEqual([]);
  });

  it('exits 1 on any change (any function), any new failure, or a failed sample of this run', () => {
    const { comparison, changes } = compareAllFunctions(before, after);
    const others = changes.filter((c) => c.function !== comparison.function);
    expect(nightlyVerdict(comparison, others, false)).toEqual({ changed: 1, newFailures: 0, code: 1 });
    expect(nightlyVerdict(comparison, [], false)).toEqual({ changed: 0, newFailures: 0, code: 0 });
    expect(nightlyVerdict(comparison, [], true)).toEqual({ changed: 0, newFailures: 0, code: 1 });
    // no earlier run: only this run's own failures count
    expect(nightlyVerdict(undefined, [], false).code).toBe(0);
    const changedCounts = { ...comparison, counts: { ...comparison.counts, newFailures: 2 } };
    expect(nightlyVerdict(changedCounts, [], false)).toEqual({ changed: 0, newFailures: 2, code: 1 });
  });

  it('writes comparison.<ext> beside the run in every format', () => {
    const { comparison } = compareAllFunctions(before, after);
    writeComparison(after, comparison, undefined, (id) => `results/${id}/bisect.json`);
    for (const name of rendererNames) {
      const file = join(after, `comparison.${renderers[name].extension}`);
      expect(existsSync(file), file).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe(renderers[name].render(comparison));
    }
  });

  it("an earlier nightly's comparison that cannot be read any more is left alone", () => {
    expect(comparisonIfReadable(join(results, 'gone'), after)).toBeUndefined();
    expect(comparisonIfReadable(before, after)?.function).toBe(GUP);
  });
});
