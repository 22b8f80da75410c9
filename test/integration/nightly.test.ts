/**
 * kexp nightly for real: a one-cell experiment run twice into a fresh results folder. The second
 * night compares with the first; then an earlier record whose figure differs makes it exit 1.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CellRecord } from '../../src/results/store.js';
import { kexp } from '../helpers/kexp.js';

interface NightlyJson {
  run: string;
  dir: string;
  previous: string | null;
  changed: number;
  newFailures: number;
  findings: boolean;
}

const experiment = {
  name: 'nightly-test',
  kernels: ['6.12'],
  variants: ['baseline'],
  workloads: [{ name: 'uffd-populate' }],
  sizes: [64, 128],
  repetitions: 1,
};

async function nightly(file: string, results: string): Promise<{ exitCode: number; json: NightlyJson; stderr: string }> {
  const r = await kexp(['nightly', file, '--results', results, '--json']);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { exitCode: r.exitCode, json: JSON.parse(line) as NightlyJson, stderr: r.stderr };
}

describe('kexp nightly', () => {
  it('compares each night with the last complete run, writes the comparison, and exits 1 on a change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-nightly-'));
    const file = join(dir, 'nightly-test.json');
    writeFileSync(file, JSON.stringify(experiment));
    const results = join(dir, 'results');

    const first = await nightly(file, results);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json.previous).toBeNull();

    const second = await nightly(file, results);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.json.previous).toBe(first.json.dir);
    expect(second.json.changed).toBe(0);
    for (const ext of ['txt', 'md', 'csv', 'json', 'html']) expect(existsSync(join(second.json.dir, `comparison.${ext}`)), ext).toBe(true);

    // Make the second night's record say __get_user_pages cost one call more per page: the third
    // night, which measures the real figure again, must flag the change and exit 1.
    const cellFile = join(second.json.dir, 'cells', '6.12_baseline_r0', 'cell.json');
    const cell = JSON.parse(readFileSync(cellFile, 'utf8')) as CellRecord;
    for (const s of cell.samples) for (const c of Object.values(s.counts)) if (c && '__get_user_pages' in c) c.__get_user_pages! += s.pages;
    writeFileSync(cellFile, JSON.stringify(cell));

    const third = await nightly(file, results);
    expect(third.exitCode).toBe(1);
    expect(third.json.previous).toBe(second.json.dir);
    expect(third.json.changed).toBe(1);
    const text = readFileSync(join(third.json.dir, 'comparison.txt'), 'utf8');
    expect(text).toContain('3 → 2');
    console.log(text);
  });
});
