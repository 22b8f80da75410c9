import { describe, expect, it } from 'vitest';
import { redactArg, redactArgv, redactSecrets, redactValue } from '../../../src/core/redact.js';

// Passwords a URL parser stops short on: '/', '@', ':' and a percent escape.
const nasty = 'se/cr@t:x%2F';

describe('redacting URL passwords', () => {
  it('hides a password with / @ : and % whole, keeping the user, host, port and db', () => {
    expect(redactArg(`redis://user:${nasty}@lab1:6379/0`)).toBe('redis://user:***@lab1:6379/0');
    expect(redactSecrets(`Redis at redis://user:${nasty}@lab1:6379 refused`)).toBe('Redis at redis://user:***@lab1:6379 refused');
    expect(redactSecrets(`rediss://kexp:${nasty}@lab1:6380`)).not.toContain('se/');
  });

  it('hides the password of an empty user, and leaves a user without a password alone', () => {
    expect(redactArg(`redis://:${nasty}@lab1:6379`)).toBe('redis://:***@lab1:6379');
    expect(redactArg('redis://kexp@lab1:6379')).toBe('redis://kexp@lab1:6379');
    expect(redactArg('redis://lab1:6379/2')).toBe('redis://lab1:6379/2');
    expect(redactArg('redis://:@lab1:6379')).toBe('redis://:***@lab1:6379');
  });

  it('hides passwords of URLs that do not parse, and of every URL in a text', () => {
    expect(redactArg('redis://user:p w@lab1')).toBe('redis://user:***@lab1');
    expect(redactArg('redis://:pw@')).toBe('redis://:***@');
    const text = `first rediss://a:${nasty}@h1:1, then "redis://:two@h2:2" and 'http://u:three@h3/x' (mail bob@example.org)`;
    const out = redactSecrets(text);
    for (const secret of ['se/cr', 'cr@t', 'x%2F', 'two', 'three']) expect(out).not.toContain(secret);
    expect(out).toBe('first rediss://a:***@h1:1, then "redis://:***@h2:2" and \'http://u:***@h3/x\' (mail bob@example.org)');
  });

  it('ends a quoted URL at its quote, so a raw space or an @ after it is not mistaken', () => {
    expect(redactSecrets('found "redis://u:p w@h:1" in "a@b"')).toBe('found "redis://u:***@h:1" in "a@b"');
  });

  it('redacts a command line, --redis URL and --redis=URL alike', () => {
    expect(redactArgv(['worker', '--redis', `redis://:${nasty}@lab1:6379`, `--redis=redis://u:${nasty}@lab1`, '--name', 'lab@3'])).toEqual([
      'worker',
      '--redis',
      'redis://:***@lab1:6379',
      '--redis=redis://u:***@lab1',
      '--name',
      'lab@3',
    ]);
  });

  it('leaves text without secrets as it was', () => {
    for (const text of ['', 'no url here', 'a@b:c', 'https://example.org/a@b', 'redis://h:1 user@host']) expect(redactSecrets(text)).toBe(text);
  });

  it('redacts every string of a value to be logged, errors and cycles included', () => {
    const error = Object.assign(new Error(`connect to redis://:${nasty}@h failed`), { code: 'ECONNREFUSED' });
    const cyclic: Record<string, unknown> = { url: 'redis://:pw@h' };
    cyclic.self = cyclic;
    const out = JSON.stringify(redactValue({ argv: ['--redis', `redis://:${nasty}@h`], err: error, cyclic, n: 3 }));
    expect(out).not.toMatch(/se\/cr|pw@/);
    expect(out).toContain('"code":"ECONNREFUSED"');
    expect(out).toContain('"n":3');
    expect(out).toContain('[left out]');
  });
});
