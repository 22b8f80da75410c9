import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kernelReproducer, shellEnv, shellLine, shellQuote } from '../../../src/kernel/reproducer.js';

/** What a POSIX shell makes of a line: its words, as the program would receive them. */
function wordsAfterShell(line: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

const nasty = [
  '$(id)',
  '`id`',
  'a b  c',
  "it's",
  '"double" quotes',
  'line one\nline two',
  'semi;colon && rm -rf ~',
  '*',
  '~',
  '#not a comment',
  'back\\slash',
  '!bang',
  '',
  "''",
  '/tmp/kexp cache/work/tar-1/src',
];

describe('shellQuote', () => {
  it('leaves plain words alone', () => {
    for (const word of ['make', '-C', '/root/.cache/kexp/work/tar-abc/src', 'O=/x/build', 'ARCH=x86_64', '-j2', 'a,b:c@d%e+f'])
      expect(shellQuote(word)).toBe(word);
  });

  it('quotes command substitution, spaces, quotes, newlines, globs and comments so nothing runs', () => {
    expect(shellQuote('$(id)')).toBe("'$(id)'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('line one\nline two')).toBe("'line one\nline two'");
  });

  it('gives a POSIX shell back exactly the words it was given', () => {
    for (const word of nasty) expect(wordsAfterShell(shellQuote(word))).toEqual([word]);
    expect(wordsAfterShell(shellLine(nasty))).toEqual(nasty);
  });

  it('quotes environment values and refuses a name that is not one', () => {
    expect(shellEnv({ A: 'x y', B: '$(id)' })).toBe("A='x y' B='$(id)'");
    expect(() => shellEnv({ 'A=B; id #': 'x' })).toThrow(/not an environment variable name/);
  });
});

describe('kernelReproducer', () => {
  it('quotes every path and argument of every line', () => {
    const lines = kernelReproducer({
      src: '/cache/work/tar-1/src',
      patches: ['/home/u/patches/$(id)/6.1/0001-a b.patch'],
      config: { from: '/cache/store/configs/abc/config', to: '/cache/work/tar-1/build/.config' },
      env: { KBUILD_BUILD_USER: 'kexp' },
      makeArgs: ['-C', '/cache/work/tar-1/src', 'CC=ccache gcc', 'bzImage'],
    });
    expect(lines).toEqual([
      'cd /cache/work/tar-1/src && git reset --hard && git clean -fdx',
      "git -C /cache/work/tar-1/src apply '/home/u/patches/$(id)/6.1/0001-a b.patch'",
      'cp /cache/store/configs/abc/config /cache/work/tar-1/build/.config',
      "KBUILD_BUILD_USER=kexp make -C /cache/work/tar-1/src 'CC=ccache gcc' bzImage",
    ]);
    expect(wordsAfterShell(lines[1]!.replace(/^git -C \S+ apply /, ''))).toEqual(['/home/u/patches/$(id)/6.1/0001-a b.patch']);
  });
});
