import { describe, expect, it } from 'vitest';
import { checkRedisUrl, redactRedisUrl } from '../../../src/fleet/redis.js';
import { chooseExecutor, describeExecutor } from '../../../src/experiment/executors/index.js';
import { experimentSchema } from '../../../src/config/experiment.js';

describe('Redis URLs', () => {
  it('are shown without their password', () => {
    expect(redactRedisUrl('redis://:s3cret@lab1:6379/0')).toBe('redis://:***@lab1:6379/0');
    expect(redactRedisUrl('rediss://kexp:s3cret@lab1:6380')).toBe('rediss://kexp:***@lab1:6380');
    expect(redactRedisUrl('redis://lab1:6379')).toBe('redis://lab1:6379');
    expect(redactRedisUrl('not a url :s3cret@x')).not.toContain('s3cret');
  });

  it('must be redis:// or rediss:// with a host', () => {
    expect(checkRedisUrl('rediss://:pw@lab1:6380', '--redis')).toBe('rediss://:pw@lab1:6380');
    expect(() => checkRedisUrl('http://lab1:6379', '--redis')).toThrow(/--redis: http:\/\/lab1:6379\/?: expected redis/);
    expect(() => checkRedisUrl('lab1:6379', '--redis')).toThrow(/expected redis/);
    expect(() => checkRedisUrl('redis://:pw@', '--redis')).toThrow();
  });
});

describe('choosing the executor', () => {
  const none = { executor: undefined };
  it('is local unless asked otherwise', () => {
    expect(chooseExecutor({}, none, {})).toEqual({ name: 'local' });
  });

  it('takes the command line, then the environment, then the experiment file', () => {
    const fromFile = { executor: { type: 'bullmq' as const, redis: 'redis://file:6379' } };
    expect(chooseExecutor({}, fromFile, {})).toEqual({ name: 'bullmq', redis: 'redis://file:6379' });
    expect(chooseExecutor({}, fromFile, { KEXP_REDIS: 'redis://:pw@env:6379' })).toEqual({ name: 'bullmq', redis: 'redis://:pw@env:6379' });
    expect(chooseExecutor({ redis: 'redis://flag:6379' }, fromFile, { KEXP_REDIS: 'redis://env:6379', KEXP_STORE: '/srv/store' })).toEqual({ name: 'bullmq', redis: 'redis://flag:6379', store: '/srv/store' });
    expect(chooseExecutor({ executor: 'local' }, fromFile, {})).toEqual({ name: 'local' });
    expect(chooseExecutor({}, none, { KEXP_EXECUTOR: 'bullmq', KEXP_REDIS: 'redis://env:6379' })).toEqual({ name: 'bullmq', redis: 'redis://env:6379' });
  });

  it('treats --redis alone as bullmq, and asks for a URL or a known executor', () => {
    expect(chooseExecutor({ redis: 'redis://h:1' }, none, {}).name).toBe('bullmq');
    expect(() => chooseExecutor({ executor: 'bullmq' }, none, {})).toThrow(/needs a Redis URL/);
    expect(() => chooseExecutor({ executor: 'slurm' }, none, {})).toThrow(/unknown executor "slurm"/);
  });

  it('records no password in the run', () => {
    expect(describeExecutor({ name: 'bullmq', redis: 'redis://:pw@h:6379' })).toEqual({ name: 'bullmq', redis: 'redis://:***@h:6379' });
  });

  it('refuses a password in the experiment file, which is copied into every run record', () => {
    const base = { name: 'x', kernels: ['6.12'], variants: ['baseline'], workloads: [{ name: 'uffd-populate' }] };
    expect(experimentSchema.safeParse({ ...base, executor: { type: 'bullmq', redis: 'redis://lab1:6379' } }).success).toBe(true);
    expect(experimentSchema.safeParse({ ...base, executor: { type: 'bullmq', redis: 'redis://:pw@lab1:6379' } }).success).toBe(false);
  });
});
