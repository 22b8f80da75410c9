import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNightlyRecord, writeNightlyRecord } from '../../../src/results/nightly.js';
import { nightly3, nightly4 } from '../report/history/fixtures.js';

describe('nightly.json through the checked reader', () => {
  it('reads back what was written, and says nothing of a run that has none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-nightly-'));
    expect(readNightlyRecord(dir)).toEqual({});
    writeNightlyRecord(dir, nightly4);
    expect(readNightlyRecord(dir).record).toEqual(nightly4);
  });

  it('turns a truncated or crafted record into a problem naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-nightly-'));
    writeNightlyRecord(dir, nightly3);
    const file = join(dir, 'nightly.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 200));
    expect(readNightlyRecord(dir).problem?.message).toMatch(/nightly\.json: truncated or not JSON .*the nightly's bisections of this run are left out$/);
    writeFileSync(
      file,
      JSON.stringify({ ...nightly3, bisections: [{ ...nightly3.bisections[0], bisectId: '../../etc', good: { run: 'x', commit: 'main' } }] }),
    );
    const problem = readNightlyRecord(dir).problem!.message;
    expect(problem).toMatch(/bisections\.0\.good\.commit: expected a full commit id/);
    expect(problem).toMatch(/bisections\.0\.bisectId: expected a plain name/);
  });
});
