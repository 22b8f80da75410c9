/**
 * Which executor a run uses, and making it. The choice (pure): `--executor` and `--redis`, else
 * $KEXP_EXECUTOR and $KEXP_REDIS, else the experiment file's "executor", else local; a Redis URL
 * given on the command line alone means bullmq. A new engine is one more case here and one file.
 */
import { resolve } from 'node:path';
import { InputError } from '../../core/errors.js';
import type { Experiment } from '../../config/experiment.js';
import { imageNeedsPerf, type Workspace } from '../cell.js';
import type { Executor } from '../executor.js';
import type { OnlyFilter } from '../plan.js';
import { checkRedisUrl, redactRedisUrl } from '../../fleet/redis.js';
import { SharedStore } from '../../fleet/shared-store.js';
import { LocalExecutor } from './local.js';

export const executorNames = ['local', 'bullmq'] as const;

export interface ExecutorFlags {
  executor?: string;
  redis?: string;
  /** The shared artifact store of a fleet. */
  store?: string;
}

export type ExecutorChoice = { name: 'local' } | { name: 'bullmq'; redis: string; store?: string };

export function chooseExecutor(flags: ExecutorFlags, experiment: Pick<Experiment, 'executor'>, env: NodeJS.ProcessEnv = process.env): ExecutorChoice {
  const name = flags.executor ?? env.KEXP_EXECUTOR ?? experiment.executor?.type ?? (flags.redis ? 'bullmq' : 'local');
  if (name === 'local') return { name: 'local' };
  if (name !== 'bullmq') throw new InputError(`unknown executor "${name}"`, `executors: ${executorNames.join(', ')}`);
  const [redis, where] = flags.redis
    ? [flags.redis, '--redis']
    : env.KEXP_REDIS
      ? [env.KEXP_REDIS, 'KEXP_REDIS']
      : [experiment.executor?.redis, "the experiment's executor.redis"];
  if (!redis)
    throw new InputError(
      'the bullmq executor needs a Redis URL',
      '--redis redis://host:6379, or KEXP_REDIS, or "executor": {"type": "bullmq", "redis": "redis://host:6379"} in the experiment',
    );
  checkRedisUrl(redis, where);
  const store = flags.store ?? env.KEXP_STORE;
  return { name: 'bullmq', redis, ...(store ? { store: resolve(store) } : {}) };
}

/** What the run's manifest says about where it ran (never a password). */
export function describeExecutor(choice: ExecutorChoice): { name: string; redis?: string; store?: string } {
  return choice.name === 'local'
    ? { name: 'local' }
    : { name: choice.name, redis: redactRedisUrl(choice.redis), ...(choice.store ? { store: choice.store } : {}) };
}

export interface ExecutorContext {
  ws: Workspace;
  jobs: number;
  cellDir: (id: string) => string;
  experiment: Experiment;
  run: { id: string; experimentText: string; only: OnlyFilter };
  say?: (line: string) => void;
}

export async function createExecutor(choice: ExecutorChoice, ctx: ExecutorContext): Promise<Executor> {
  const image = { perf: imageNeedsPerf(ctx.experiment.collectors) };
  switch (choice.name) {
    case 'local':
      return new LocalExecutor({ ws: ctx.ws, jobs: ctx.jobs, cellDir: ctx.cellDir, image, accel: ctx.experiment.accel });
    case 'bullmq': {
      // Loaded only for a fleet run: BullMQ and ioredis cost every other command start-up time.
      const { BullmqExecutor } = await import('./bullmq.js');
      return new BullmqExecutor({
        ws: ctx.ws,
        redisUrl: choice.redis,
        run: ctx.run,
        image,
        ...(choice.store ? { shared: new SharedStore(choice.store, ctx.ws.store) } : {}),
        ...(ctx.say ? { say: ctx.say } : {}),
      });
    }
  }
}
