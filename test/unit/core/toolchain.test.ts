import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { which } from '../../../src/core/toolchain.js';

describe('which', () => {
  const saved = process.env.PATH;
  const dirs: string[] = [];
  afterEach(() => {
    process.env.PATH = saved;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('finds the first executable on PATH, skipping a file that is not executable', () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), 'kexp-which-')), mkdtempSync(join(tmpdir(), 'kexp-which-'))];
    dirs.push(a, b);
    writeFileSync(join(a, 'tool'), 'not executable');
    writeFileSync(join(b, 'tool'), '#!/bin/sh\n');
    chmodSync(join(b, 'tool'), 0o755);
    process.env.PATH = `${a}::${b}`;
    expect(which('tool')).toBe(join(b, 'tool'));
    expect(which('no-such-tool')).toBeUndefined();
  });
});
