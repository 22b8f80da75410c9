import { describe, expect, it } from 'vitest';
import { checkRedisUrl, reachability, redactRedisUrl, retryDelay, RETRY_MAX_MS } from '../../../src/fleet/redis.js';

describe('Redis URLs', () => {
  it('are shown without their password', () => {
    expect(redactRedisUrl('redis://:s3cret@lab1:6379/0')).toBe('redis://:***@lab1:6379/0');
    expect(redactRedisUrl('rediss://kexp:s3cret@lab1:6380')).toBe('rediss://kexp:***@lab1:6380');
    expect(redactRedisUrl('redis://lab1:6379')).toBe('redis://lab1:6379');
    expect(redactRedisUrl('not a url :s3cret@x')).not.toContain('s3cret');
  });

  it('hide a password with / @ : or %, however the URL parses', () => {
    expect(redactRedisUrl('redis://user:se/cr@t:x%2F@lab1:6379/0')).toBe('redis://user:***@lab1:6379/0');
    expect(redactRedisUrl('redis://:se/cr@t:x%2F@lab1:6379')).toBe('redis://:***@lab1:6379');
    expect(redactRedisUrl('redis://kexp@lab1:6379')).toBe('redis://kexp@lab1:6379');
    expect(redactRedisUrl(':se/cr@t@lab1:6379')).toBe(':***@lab1:6379');
  });

  it('that do not parse are named without their password', () => {
    expect(() => checkRedisUrl('redis://user:se/cr@t:x%2F@lab1:6379', '--redis')).toThrow(/"redis:\/\/user:\*\*\*@lab1:6379" is not a URL/);
    try {
      checkRedisUrl('redis://user:se/cr@t:x%2F@', 'KEXP_REDIS');
    } catch (error) {
      expect((error as Error).message).not.toMatch(/se\/|cr@t|x%2F/);
    }
  });

  it('must be redis:// or rediss:// with a host', () => {
    expect(checkRedisUrl('rediss://:pw@lab1:6380', '--redis')).toBe('rediss://:pw@lab1:6380');
    expect(() => checkRedisUrl('http://lab1:6379', '--redis')).toThrow(/--redis: http:\/\/lab1:6379\/?: expected redis/);
    expect(() => checkRedisUrl('lab1:6379', '--redis')).toThrow(/expected redis/);
    expect(() => checkRedisUrl('redis://:pw@', '--redis')).toThrow();
  });
});

describe('a long-lived connection', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
  const url = 'redis://:se/cr@t@127.0.0.1:6379';

  it('says once that Redis went away, however often the reconnect fails, and once that it is back', () => {
    const report = reachability(url, 'worker lab3');
    expect(report.ready()).toBeUndefined();
    const first = report.error(refused);
    expect(first).toBe(`worker lab3: Redis at redis://:***@127.0.0.1:6379 unreachable (ECONNREFUSED); retrying, ${RETRY_MAX_MS / 1000} s apart at most`);
    for (let i = 0; i < 20; i++) expect(report.error(refused)).toBeUndefined();
    expect(report.ready()).toBe('worker lab3: Redis at redis://:***@127.0.0.1:6379 reachable again');
    expect(report.ready()).toBeUndefined();
    expect(report.error(refused)).toBe(first);
  });

  it('says it again when the failure changes kind (a restarted Redis with another password)', () => {
    const report = reachability(url);
    expect(report.error(refused)).toMatch(/^Redis at .* unreachable \(ECONNREFUSED\)/);
    expect(report.error(new Error('WRONGPASS invalid username-password pair'))).toMatch(/^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:6379 refused the password/);
    expect(report.error(new Error('WRONGPASS invalid username-password pair'))).toBeUndefined();
  });

  it('never shows a password an error message carries', () => {
    const line = reachability('redis://h:1').error(new Error('oops at redis://:hunter2@h:1'));
    expect(line).not.toContain('hunter2');
  });

  it('retries with a growing pause, capped', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(retryDelay)).toEqual([500, 1000, 2000, 4000, RETRY_MAX_MS, RETRY_MAX_MS, RETRY_MAX_MS]);
  });
});
