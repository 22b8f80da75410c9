import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareNightly, runNotify } from '../../../src/cli/nightly.js';

describe('kexp nightly --notify', () => {
  it('runs the command line with the summary on its standard input and the run in its environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-notify-'));
    const out = join(dir, 'mail.txt');
    const warnings: string[] = [];
    const ok = await runNotify(
      `cat > '${out}'; echo "run=$KEXP_RUN" >> '${out}'`,
      'Subject: kexp nightly x: 1 change\n\nbody\n',
      { KEXP_RUN: 'x-1' },
      { warn: (w) => warnings.push(w) },
    );
    expect(ok).toBe(true);
    expect(readFileSync(out, 'utf8')).toBe('Subject: kexp nightly x: 1 change\n\nbody\nrun=x-1\n');
    expect(warnings).toEqual([]);
  });

  it('warns when the command fails, with its exit code and last lines', async () => {
    const warnings: string[] = [];
    expect(await runNotify('echo "no route to host" >&2; exit 3', 'x', {}, { warn: (w) => warnings.push(w) })).toBe(false);
    expect(warnings[0]).toMatch(/^--notify: .*exit code 3[\s\S]*no route to host/);
  });

  it('refuses an empty command before anything runs', async () => {
    await expect(prepareNightly('.', 'experiments/default.json', { notify: '  ' })).rejects.toThrow(/^--notify: the command is empty$/);
  });
});
