import { existsSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT, InputError, type KexpError } from '../../../src/core/errors.js';
import { cacheProblem, chooseCacheRoot, ensureCacheRoot } from '../../../src/core/paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'kexp-paths-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function refusal(path: string, from = '--cache'): KexpError {
  try {
    ensureCacheRoot({ path, from });
  } catch (error) {
    return error as KexpError;
  }
  throw new Error(`${path} was accepted as a cache folder`);
}

describe('the cache folder', () => {
  it('creates a missing folder, level by level, and accepts an existing one', () => {
    const deep = join(scratch, 'a/b/c');
    expect(ensureCacheRoot({ path: deep, from: '--cache' })).toBe(deep);
    expect(existsSync(deep)).toBe(true);
    expect(ensureCacheRoot({ path: deep, from: '--cache' })).toBe(deep);
  });

  it('refuses /proc and /sys at once, with exit 2, naming the option and what to do', () => {
    const started = Date.now();
    for (const path of ['/proc/kexp', '/proc', '/sys/kernel/kexp', '/proc/self/fd/kexp']) {
      const error = refusal(path);
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(new RegExp(`the cache folder ${path} \\(from --cache\\) is under /(proc|sys), a kernel pseudo file system`));
      expect(error.hint).toMatch(/give --cache a folder you can write/);
    }
    expect(Date.now() - started).toBeLessThan(1000);
    expect(refusal('/proc/kexp', '$KEXP_CACHE').hint).toMatch(/set \$KEXP_CACHE to a folder you can write/);
    expect(existsSync('/proc/kexp')).toBe(false);
  });

  it('refuses a folder on another kernel pseudo file system, found by its statfs type', () => {
    // devpts is mounted on /dev/pts on Linux hosts and in containers alike.
    expect(statfsSync('/dev/pts').type).toBe(0x1cd1);
    const error = refusal('/dev/pts/kexp-cache');
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.message).toMatch(/is on \/dev\/pts, a kernel pseudo file system \(devpts\)/);
  });

  it('refuses a file, and a path through a file, with exit 2 naming the file', () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    expect(refusal(file).message).toBe(`the cache folder ${file} (from --cache) is a file, not a folder`);
    const through = refusal(join(file, 'sub/kexp'));
    expect(through.exitCode).toBe(EXIT.usage);
    expect(through.message).toContain(`: ${file} is a file, not a folder`);
    expect(refusal('/etc/passwd').exitCode).toBe(EXIT.usage);
  });

  it('maps what mkdir and access say to exit 3 for the machine and exit 2 for the path', () => {
    const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });
    expect(cacheProblem('w', '/x', err('EACCES'), 'f').exitCode).toBe(EXIT.environment);
    expect(cacheProblem('w', '/x', err('EROFS'), 'f').message).toBe('w: /x is on a read-only file system');
    expect(cacheProblem('w', '/x', err('ENOSPC'), 'f').exitCode).toBe(EXIT.environment);
    expect(cacheProblem('w', '/x', err('ENOTDIR'), 'f').exitCode).toBe(EXIT.usage);
    expect(cacheProblem('w', '/x', err('EIO'), 'f').exitCode).toBe(EXIT.environment);
  });

  it('says where the folder came from', () => {
    const saved = { KEXP_CACHE: process.env.KEXP_CACHE, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
    try {
      process.env.KEXP_CACHE = '/tmp/k';
      expect(chooseCacheRoot('/tmp/flag')).toEqual({ path: '/tmp/flag', from: '--cache' });
      expect(chooseCacheRoot()).toEqual({ path: '/tmp/k', from: '$KEXP_CACHE' });
      delete process.env.KEXP_CACHE;
      process.env.XDG_CACHE_HOME = '/tmp/xdg';
      expect(chooseCacheRoot()).toEqual({ path: '/tmp/xdg/kexp', from: '$XDG_CACHE_HOME' });
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });
});
