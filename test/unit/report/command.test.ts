import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.js';
import { compareDirs, lastCompleteRun, pickRun, reportTables } from '../../../src/report/command.js';
import { GUP, HUF, writeRun } from './run-dirs.js';

describe('kexp report and compare: which runs, which function', () => {
  const results = mkdtempSync(join(tmpdir(), 'kexp-report-cmd-'));
  const first = writeRun(results, { id: 'x-20261126-000000', perPage: { baseline: { [GUP]: 2, [HUF]: 1 }, 'early-break': { [GUP]: 1, [HUF]: 1 } } });
  const other = writeRun(results, { id: 'y-20261126-120000', experiment: 'y', perPage: { baseline: { [GUP]: 2 } } });
  const second = writeRun(results, { id: 'x-20261127-000000', perPage: { baseline: { [GUP]: 2, [HUF]: 1 }, 'early-break': { [GUP]: 2, [HUF]: 1 } } });
  const running = writeRun(results, { id: 'x-20261128-000000', state: 'running', perPage: { baseline: { [GUP]: 2 } } });

  it('reports the run named (id or folder), else the latest', () => {
    expect(pickRun(results, 'x-20261126-000000')).toBe(first);
    expect(pickRun(results, second)).toBe(second);
    expect(pickRun(results, undefined)).toBe(running);
    const empty = mkdtempSync(join(tmpdir(), 'kexp-report-none-'));
    expect(() => pickRun(empty, undefined)).toThrow(InputError);
    expect(() => pickRun(empty, undefined)).toThrow(`no runs in ${empty}`);
  });

  it("compares with the experiment's last complete run before this one", () => {
    expect(lastCompleteRun(results, 'x', 'x-20261128-000000')).toBe(second);
    expect(lastCompleteRun(results, 'x', 'x-20261127-000000')).toBe(first);
    expect(lastCompleteRun(results, 'y', 'y-20261126-120000')).toBeUndefined();
    expect(other).toBeDefined();
  });

  it("compares two runs cell by cell, on the later run's function unless one is named", () => {
    const { comparison, damaged } = compareDirs(first, second);
    expect(damaged).toEqual([]);
    expect(comparison.function).toBe(GUP);
    expect(comparison.counts.changed).toBe(1);
    expect(comparison.changes.map((c) => [c.variant, c.before.label, c.after.label])).toEqual([['early-break', '1', '2']]);
    expect(compareDirs(first, second, HUF).comparison.counts.changed).toBe(0);
  });

  it('draws the tables of the function asked for, after the check the command gives it', () => {
    const seen: unknown[] = [];
    const { tables, damaged } = reportTables(first, HUF, (name, counted, planned) => seen.push({ name, counted: [...new Set(counted)].sort(), planned }));
    expect(damaged).toEqual([]);
    expect(tables.function).toBe(HUF);
    expect(seen).toEqual([{ name: HUF, counted: [GUP, HUF], planned: [GUP, GUP, HUF] }]);
    // no function named: the experiment's, and no check
    expect(reportTables(first, undefined, () => expect.fail('checked without a --function')).tables.function).toBe(GUP);
    expect(() =>
      reportTables(first, 'do_page_fault', () => {
        throw new InputError('--function: this run never counted "do_page_fault"');
      }),
    ).toThrow(/never counted/);
  });
});
