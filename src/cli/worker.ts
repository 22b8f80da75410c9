import { hostname } from 'node:os';
import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { defaultJobs } from '../experiment/run.js';
import { checkRedisUrl, probeRedis, RETRY_MAX_MS } from '../fleet/redis.js';
import { SharedStore } from '../fleet/shared-store.js';
import { EXIT_GRACE_MS, HAND_BACK_MS, LOCK_MS, STALL_CHECK_MS, STOP_BOUND_S } from '../fleet/timing.js';
import { action, type Registrar } from './action.js';
import { ensureHostReady, workspace } from './context.js';
import { parseJobs } from './options.js';

interface WorkerCommandOptions {
  redis?: string;
  jobs?: number;
  name?: string;
  store?: string;
}

export const registerWorker: Registrar = (program: Command) => {
  program
    .command('worker')
    .description('take cells of `kexp run --executor bullmq` runs from a Redis queue until stopped (one per machine of a fleet)')
    .option('--redis <url>', "the fleet's Redis, redis://[:password@]host:port[/db] or rediss:// (default: $KEXP_REDIS)")
    .option('-j, --jobs <n>', 'jobs at once (default: cores + 1, fewer if memory is short)', (v) => parseJobs(v))
    .option('--name <name>', "this worker's name in the run records (default: host-pid)")
    .option('--store <dir>', "the fleet's shared artifact store, e.g. an NFS mount (default: $KEXP_STORE)")
    .addHelpText(
      'after',
      `
Examples:
  kexp worker --redis redis://lab1:6379 --store /srv/kexp-store
  KEXP_REDIS=redis://:secret@lab1:6379 kexp worker --jobs 2 --name lab3

SIGTERM or Ctrl-C: takes no new job, hands the current ones back to the queue, exits 0,
within ${STOP_BOUND_S} s whatever Redis does: a Redis that does not answer gets ${HAND_BACK_MS / 1000} s to take
the jobs back, then the worker kills its children and exits, and those jobs go to another
worker once their locks expire (about ${Math.round((LOCK_MS + STALL_CHECK_MS) / 1000)} s). A second signal exits at once.
A worker killed outright leaves no QEMU behind; its jobs go to another worker.
Redis going away is said in one line and retried (${RETRY_MAX_MS / 1000} s apart at most); so is its return.`,
    )
    .action(
      action('worker', async (ctx, options: WorkerCommandOptions) => {
        const redis = options.redis ?? process.env.KEXP_REDIS;
        if (!redis) throw new InputError("kexp worker needs the fleet's Redis", '--redis redis://host:6379 or KEXP_REDIS');
        checkRedisUrl(redis, options.redis ? '--redis' : 'KEXP_REDIS');
        await probeRedis(redis); // fail within seconds on a wrong URL or password, before anything else
        await ensureHostReady(ctx);
        const storeDir = options.store ?? process.env.KEXP_STORE;
        const name = options.name ?? `${hostname()}-${process.pid}`;
        const stamp = (): string => new Date().toISOString().slice(11, 19);
        // Loaded here only: BullMQ costs every other command start-up time.
        const { runWorker } = await import('../fleet/worker.js');
        await runWorker({
          ws: workspace(ctx),
          redisUrl: redis,
          name,
          jobs: options.jobs ?? defaultJobs(1024),
          ...(storeDir ? { shared: new SharedStore(storeDir, ctx.store) } : {}),
          say: (line) => {
            ctx.logger.info({ worker: name }, line);
            ctx.err(`${stamp()} ${line}`);
          },
        });
        ctx.err(`${stamp()} worker ${name}: stopped`);
        // A connection BullMQ still retries must not hold the process past the documented bound.
        setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
        return 0;
      }),
    );
};
