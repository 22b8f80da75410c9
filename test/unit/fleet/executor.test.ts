import { describe, expect, it } from 'vitest';
import { EnvironmentError, InputError } from '../../../src/core/errors.js';
import { experimentSchema, parseExperiment } from '../../../src/config/experiment.js';
import { chooseExecutor, executorNames, findExecutor } from '../../../src/experiment/executors/index.js';
import { BullmqExecutor, bullmqEngine } from '../../../src/fleet/executor.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis } from '../../helpers/redis.js';

const none = { executor: undefined };
const settingsOf = (executor: unknown): unknown => {
  expect(executor).toBeInstanceOf(BullmqExecutor);
  return (executor as BullmqExecutor).settings;
};

describe('the fleet executor', () => {
  it('registers itself as "bullmq" once its module is loaded', () => {
    expect(executorNames()).toEqual(['local', 'bullmq']);
    expect(findExecutor('bullmq')).toBe(bullmqEngine);
  });

  it('is chosen by the command line, then the environment, then the experiment file', () => {
    const fromFile = { executor: { type: 'bullmq', redis: 'redis://file:6379' } };
    expect(settingsOf(chooseExecutor({}, fromFile, {}))).toEqual({ redis: 'redis://file:6379' });
    expect(settingsOf(chooseExecutor({}, fromFile, { KEXP_REDIS: 'redis://:pw@env:6379' }))).toEqual({ redis: 'redis://:pw@env:6379' });
    expect(settingsOf(chooseExecutor({ redis: 'redis://flag:6379' }, fromFile, { KEXP_REDIS: 'redis://env:6379', KEXP_STORE: '/srv/store' }))).toEqual({
      redis: 'redis://flag:6379',
      store: '/srv/store',
    });
    expect(chooseExecutor({ executor: 'local' }, fromFile, {}).name).toBe('local');
    expect(settingsOf(chooseExecutor({}, none, { KEXP_EXECUTOR: 'bullmq', KEXP_REDIS: 'redis://env:6379' }))).toEqual({ redis: 'redis://env:6379' });
  });

  it('is implied by --redis alone, and asks for a URL', () => {
    expect(chooseExecutor({ redis: 'redis://h:1' }, none, {}).name).toBe('bullmq');
    expect(chooseExecutor({}, none, {}).name).toBe('local');
    expect(() => chooseExecutor({ executor: 'bullmq' }, none, {})).toThrow(/needs a Redis URL/);
    expect(() => chooseExecutor({ executor: 'bullmq', redis: 'http://h:1' }, none, {})).toThrow(/--redis: http:\/\/h:1\/?: expected redis/);
    expect(() => chooseExecutor({ executor: 'slurm' }, none, {})).toThrow(/unknown executor "slurm"/);
  });

  it('runs its cells elsewhere, and records no password in the run', () => {
    const executor = chooseExecutor({ redis: 'redis://:pw@h:6379', store: '/srv/s' }, none, {});
    expect(executor.runsHere).toBe(false);
    expect(executor.describe()).toEqual({ name: 'bullmq', redis: 'redis://:***@h:6379', store: '/srv/s' });
  });

  it('says what a fleet may still do when another executor resumes its run', () => {
    expect(bullmqEngine.resumedElsewhere?.({ name: 'bullmq', redis: 'redis://:***@lab1:6379' }, 'r1')).toBe(
      'run r1 was started on a fleet (redis://:***@lab1:6379); resuming it here runs its unfinished cells locally, while the fleet may still run the queued ones (--redis URL collects them instead)',
    );
  });

  it('refuses a password in the experiment file, which is copied into every run record', () => {
    const base = { name: 'x', kernels: ['6.12'], variants: ['baseline'], workloads: [{ name: 'uffd-populate' }] };
    expect(experimentSchema.safeParse({ ...base, executor: { type: 'bullmq', redis: 'redis://lab1:6379' } }).success).toBe(true);
    expect(experimentSchema.safeParse({ ...base, executor: { type: 'bullmq', redis: 'redis://:pw@lab1:6379' } }).success).toBe(false);
  });

  it('is a known executor.type of an experiment once registered', () => {
    const known = { kernels: ['6.12'], variants: ['baseline'], workloads: ['uffd-populate'], executors: executorNames() };
    const text = JSON.stringify({ name: 'x', kernels: ['6.12'], variants: ['baseline'], workloads: [{ name: 'uffd-populate' }], executor: { type: 'bullmq' } });
    expect(parseExperiment('exp.json', text, known).executor?.type).toBe('bullmq');
  });
});

describe('the fleet executor preflight', () => {
  it('fails within seconds with exit 3 when nothing listens at the Redis URL, naming it without its password', async () => {
    const port = await freePort(); // bound and released: nothing listens there
    const executor = chooseExecutor({ redis: `redis://:s3cret@127.0.0.1:${port}` }, none, {});
    const t0 = Date.now();
    const error = await executor.preflight().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - t0).toBeLessThan(7000);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).exitCode).toBe(3);
    expect((error as Error).message).toBe(`Redis at redis://:***@127.0.0.1:${port} refused the connection (nothing listens there)`);
    expect((error as EnvironmentError).hint).toMatch(/redis-server running/);
  });

  it('passes against a real redis-server, and fails on its wrong password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-redis-'));
    const redis = await startRedis(dir, 'right');
    try {
      await expect(chooseExecutor({ redis: `redis://:right@127.0.0.1:${redis.port}` }, none, {}).preflight()).resolves.toBeUndefined();
      const wrong = await chooseExecutor({ redis: `redis://:wrong@127.0.0.1:${redis.port}` }, none, {})
        .preflight()
        .catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(EnvironmentError);
      expect((wrong as Error).message).toMatch(/refused the password \(WRONGPASS\)/);
      expect((wrong as Error).message).not.toContain('wrong@');
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cancelling a run the local executor ran', () => {
  it('is refused: nothing of it is queued', async () => {
    const local = chooseExecutor({}, none, {});
    await expect(local.cancel({ id: 'r1', units: [] })).rejects.toThrow(
      new InputError('run r1 ran here: nothing of it is queued', 'a local run stops with Ctrl-C; --cancel is for runs on a kexp worker fleet'),
    );
    await expect(local.cancel({ id: 'r1', units: [], recorded: { name: 'local' } })).rejects.toThrow(
      /run r1 ran with the local executor: nothing of it is queued/,
    );
  });
});
