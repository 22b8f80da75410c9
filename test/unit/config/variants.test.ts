import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, InputError } from '../../../src/core/errors.js';
import { loadSeries, loadVariant } from '../../../src/config/variants.js';

const diff = ['--- a/mm/gup.c', '+++ b/mm/gup.c', '@@ -1 +1 @@', '-a', '+b', ''].join('\n');

function root(): { root: string; series: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kexp-variants-'));
  const series = join(dir, 'patches', 'v', '6.1');
  mkdirSync(series, { recursive: true });
  return { root: dir, series };
}

function refusal(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('patches of a variant', () => {
  it('reads regular patch files in order', () => {
    const { root: r, series } = root();
    writeFileSync(join(series, '0002-b.patch'), diff);
    writeFileSync(join(series, '0001-a.patch'), diff);
    writeFileSync(join(series, 'README'), 'not a patch');
    expect(loadVariant(r, 'v', '6.1').patches.map((p) => p.name)).toEqual(['0001-a.patch', '0002-b.patch']);
  });

  it('refuses a patch that is a symbolic link, naming it (exit 2)', () => {
    const { root: r, series } = root();
    const elsewhere = join(r, 'secret.txt');
    writeFileSync(elsewhere, 'not yours');
    symlinkSync(elsewhere, join(series, '0001-link.patch'));
    const error = refusal(() => loadVariant(r, 'v', '6.1'));
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.message).toBe(`${join(series, '0001-link.patch')}: a patch must be a regular file, this is a symbolic link`);
    expect(error.hint).toMatch(/copy the patch/);
  });

  it('refuses a dangling symlink, a directory and a named pipe the same way', () => {
    for (const [name, make, kind] of [
      ['0001-dangling.patch', (p: string) => symlinkSync('/nonexistent/kexp', p), 'a symbolic link'],
      ['0001-dir.patch', (p: string) => mkdirSync(p), 'a directory'],
      ['0001-fifo.diff', (p: string) => execFileSync('mkfifo', [p]), 'a named pipe'],
    ] as const) {
      const { series } = root();
      make(join(series, name));
      const error = refusal(() => loadSeries(join(series, '..'), 'v', '6.1'));
      expect(error.message).toBe(`${join(series, name)}: a patch must be a regular file, this is ${kind}`);
    }
  });
});
