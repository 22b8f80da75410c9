/**
 * run() with stdoutFile: the output goes to the file only, not into the log, the tail or onLine
 * (it is often binary: a cpio archive, a decompressed kernel). stderr is still logged and kept.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/core/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'kexp-proc-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run with stdoutFile', () => {
  it('writes stdout to the file only, and still logs stderr', async () => {
    const out = join(dir, 'out.bin');
    const log = join(dir, 'run.log');
    const lines: string[] = [];
    const result = await run('/bin/sh', ['-c', 'printf "payload-1\\npayload-2\\n"; echo "a warning" >&2'], {
      stdoutFile: out,
      logFile: log,
      onLine: (line) => lines.push(line),
    });
    expect(readFileSync(out, 'utf8')).toBe('payload-1\npayload-2\n');
    // The command line is logged (it spells the printf); the output lines are not.
    expect(readFileSync(log, 'utf8').split('\n')).not.toContain('payload-1');
    expect(readFileSync(log, 'utf8')).toContain('a warning');
    expect(result.tail).toEqual(['a warning']);
    expect(lines).toEqual(['a warning']);
  });

  it('passes input through stdin intact (binary)', async () => {
    const out = join(dir, 'copy.bin');
    const input = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff));
    await run('cat', [], { input, stdoutFile: out });
    expect(readFileSync(out).equals(input)).toBe(true);
  });
});
