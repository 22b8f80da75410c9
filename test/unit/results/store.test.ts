import { cellRecord, runManifest, uffdSamples } from '../../helpers/records.js';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore, listRuns, newRunId, type CellRecord, type RunManifest } from '../../../src/results/store.js';

function manifest(id: string, cells: string[]): RunManifest {
  return runManifest(id, Object.fromEntries(cells.map((c) => [c, { variant: 'baseline', rep: Number(c.slice(-1)) }])));
}

function record(id: string): CellRecord {
  return cellRecord({ id, samples: uffdSamples(() => ({ ftrace: { __get_user_pages: 131 } }), [64]) });
}

describe('run store: resume bookkeeping', () => {
  it('marks a cell done only once its record is written, and keeps the samples of done cells', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-results-'));
    const store = RunStore.create(dir, 'x-1', '{"name":"x"}', manifest('x-1', ['c_r0', 'c_r1']));
    store.recordCell(record('c_r0'));
    const m = store.manifest();
    expect(m.cells.c_r0!.state).toBe('done');
    expect(m.cells.c_r1!.state).toBe('pending');
    expect(store.cellRecords().map((c) => c.id)).toEqual(['c_r0']);
    const samples = readFileSync(join(store.dir, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(samples).toEqual([expect.objectContaining({ cell: 'c_r0', kernel: '6.12', pages: 64 })]);
  });

  it('ignores a cell record the manifest does not call done (a crash between the two writes)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-results-'));
    const store = RunStore.create(dir, 'x-2', '{}', manifest('x-2', ['c_r0', 'c_r1']));
    mkdirSync(store.cellDir('c_r1'), { recursive: true });
    writeFileSync(join(store.cellDir('c_r1'), 'cell.json'), JSON.stringify(record('c_r1')));
    expect(store.cellRecords()).toEqual([]);
  });

  it('lists runs oldest first, with their progress', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-results-'));
    RunStore.create(dir, 'x-b', '{}', { ...manifest('x-b', ['a_r0']), startedAt: '2026-11-26T02:00:00.000Z' });
    const a = RunStore.create(dir, 'x-a', '{}', manifest('x-a', ['a_r0', 'a_r1']));
    a.recordCell(record('a_r0'));
    expect(listRuns(dir).map((r) => [r.id, r.cellsDone, r.cellsPlanned])).toEqual([
      ['x-a', 1, 2],
      ['x-b', 0, 1],
    ]);
    expect(() => RunStore.create(dir, 'x-a', '{}', manifest('x-a', []))).toThrow(/already exists/);
    expect(() => RunStore.open(dir, 'nope')).toThrow(/no run "nope"/);
  });

  it('names runs after the experiment and the time', () => {
    expect(newRunId('default', new Date('2026-11-26T10:15:00.123Z'))).toBe('default-20261126-101500');
  });
});
