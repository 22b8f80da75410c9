/**
 * The fleet's executor (BullMQ on Redis): the run's units of work go to a Redis queue that `kexp
 * worker` processes on any number of machines, and their results come back here, to the run's
 * only writer. The image is built here (and published to the shared store) so every cell boots
 * the same one; each build job fans out to its cells. The queue outlives this process: a
 * coordinator that was stopped or killed is resumed with `kexp run --resume`, which collects what
 * finished meanwhile, and `kexp run --cancel` drops what is still queued. Loading this module
 * registers the executor as "bullmq"; BullMQ itself is loaded only when a run uses it (it costs
 * every other command start-up time).
 */
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Job, Queue } from 'bullmq';
import { CancelledError, InputError } from '../core/errors.js';
import { kexpVersion } from '../core/version.js';
import type { Experiment } from '../config/experiment.js';
import { buildImage } from '../image/image.js';
import type { AccelChoice } from '../vm/accel.js';
import { imageNeedsPerf } from '../experiment/cell.js';
import { workspaceOf } from '../store/workspace.js';
import type {
  CancelOutcome,
  CancelRequest,
  Executor,
  ExecutorEngine,
  ExecutorEvents,
  ExecutorFlags,
  ExecutorRecord,
  ExecutorRun,
  WorkUnit,
} from '../experiment/executor.js';
import { registerExecutor } from '../experiment/executors/index.js';
import type { CellJob } from '../experiment/plan.js';
import { failedCellRecord } from '../experiment/work.js';
import { buildJobId, buildJobs, buildResult, cellJobId, parseCellResult, PREFIX, QUEUE } from './jobs.js';
import { checkRedisUrl, connectRedis, probeRedis, redactRedisUrl } from './redis.js';
import { SharedStore } from './shared-store.js';

export const BULLMQ = 'bullmq';

export interface BullmqSettings {
  /** The fleet's Redis (with its password, if any: never recorded). */
  redis: string;
  /** The fleet's shared artifact store, absolute. */
  store?: string;
}

/** The fleet's settings: `--redis`, else $KEXP_REDIS, else the experiment's executor.redis; `--store`, else $KEXP_STORE. Pure. */
export function bullmqSettings(flags: ExecutorFlags, experiment: Pick<Experiment, 'executor'>, env: NodeJS.ProcessEnv): BullmqSettings {
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
  return { redis, ...(store ? { store: resolve(store) } : {}) };
}

export class BullmqExecutor implements Executor {
  readonly name = BULLMQ;
  readonly runsHere = false;
  /** How often the queue is read for finished jobs. */
  pollMs = 250;
  constructor(readonly settings: BullmqSettings) {}

  describe(): ExecutorRecord {
    return { name: this.name, redis: redactRedisUrl(this.settings.redis), ...(this.settings.store ? { store: this.settings.store } : {}) };
  }

  /** Redis reached before anything is recorded: a wrong URL or password fails in seconds (exit 3). */
  preflight(): Promise<void> {
    return probeRedis(this.settings.redis);
  }

  /** The queue kept the run's jobs: queued again, the finished ones keep their state and are collected. */
  resume(run: ExecutorRun, events: ExecutorEvents, signal: AbortSignal): Promise<void> {
    return this.run(run, events, signal);
  }

  async cancel(request: CancelRequest): Promise<CancelOutcome> {
    const { cancelFleetRun } = await import('./cancel.js');
    return cancelFleetRun(
      this.settings.redis,
      request.id,
      request.units.map((u) => u.build),
      request.units.flatMap((u) => u.cells.map((c) => c.id)),
    );
  }

  async run(run: ExecutorRun, events: ExecutorEvents, signal: AbortSignal): Promise<void> {
    const { ws, units } = run;
    const redisUrl = this.settings.redis;
    const shared = this.settings.store ? new SharedStore(this.settings.store, ws.store) : undefined;
    await probeRedis(redisUrl);
    events.onPhase?.('image');
    const image = await buildImage({ ...workspaceOf(ws), signal }, { perf: imageNeedsPerf(run.experiment.collectors) });
    if (shared) await shared.publish('images', image.key);
    events.onImage(image);

    const { Queue } = await import('bullmq');
    const connection = await connectRedis(redisUrl, (message) => run.say?.(message));
    const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
    queue.on('error', (error) => ws.logger.warn({ error: error.message }, 'redis queue error')); // said once by connectRedis; BullMQ would print each with its stack
    try {
      const ref = {
        id: run.id,
        kexp: kexpVersion(),
        experimentText: run.experimentText,
        only: run.only,
        imageKey: image.key,
      };
      // Jobs already there (a resumed run) keep their state: adding an existing id changes nothing.
      await queue.addBulk(buildJobs(ref, units));
      events.onPhase?.('running');
      await this.collect(queue, run.id, units, events, signal);
      // Every cell is recorded: the run's jobs are no longer needed (finished ones age out anyway).
      for (const unit of units) await queue.remove(buildJobId(ref.id, unit.build.kernel, unit.build.variant), { removeChildren: true }).catch(() => 0);
    } finally {
      await queue.close().catch(() => undefined);
      connection.disconnect();
    }
  }

  /** Reads the run's jobs until every cell has a result, handing each result to the events once. */
  private async collect(queue: Queue, runId: string, units: WorkUnit[], events: ExecutorEvents, signal: AbortSignal): Promise<void> {
    const open = new Map<string, { unit: WorkUnit; cell: CellJob }>(units.flatMap((unit) => unit.cells.map((cell) => [cell.id, { unit, cell }] as const)));
    const builds = new Set(units);
    const started = new Set<string>();
    let accelSeen = false;
    const finish = (cell: CellJob, record: Parameters<ExecutorEvents['onCellResult']>[1], files?: Parameters<ExecutorEvents['onCellResult']>[2]): void => {
      if (!open.delete(cell.id)) return;
      events.onCellResult(cell, record, files);
    };
    while (open.size > 0) {
      if (signal.aborted)
        throw new CancelledError(
          `stopped while the fleet was running the cells: they go on (kexp run --resume ${runId} collects them, kexp run --cancel ${runId} drops them)`,
        );
      for (const unit of [...builds]) {
        const job: Job | undefined = await queue.getJob(buildJobId(runId, unit.build.kernel, unit.build.variant));
        if (!job) continue;
        const result = buildResult(job.data);
        const state = result ? undefined : await job.getState();
        if (result) {
          events.onBuild(unit.build, result.provenance, result.worker);
          builds.delete(unit);
          if (!result.provenance.key)
            for (const cell of unit.cells) finish(cell, failedCellRecord(cell, result.provenance.error ?? 'build failed', result.worker));
        } else if (state === 'active' && !started.has(job.id!)) {
          started.add(job.id!);
          events.onBuildStart?.(unit.build);
        } else if (state === 'failed') {
          const reason = `infrastructure error: the build job failed after ${job.attemptsStarted} attempts: ${job.failedReason}`;
          events.onBuild(unit.build, { key: '', error: reason }, job.processedBy ?? 'unknown');
          builds.delete(unit);
          for (const cell of unit.cells) finish(cell, failedCellRecord(cell, reason, job.processedBy ?? 'unknown'));
        }
      }
      for (const { cell } of [...open.values()]) {
        const id = cellJobId(runId, cell.id);
        const state = await queue.getJobState(id);
        if (state !== 'active' && state !== 'completed' && state !== 'failed') continue;
        const job: Job | undefined = await queue.getJob(id);
        if (!job) continue;
        if (state === 'active') {
          if (!started.has(id)) {
            started.add(id);
            events.onCellStart?.(cell, job.processedBy ?? 'a worker');
          }
        } else if (state === 'completed') {
          try {
            const result = parseCellResult(job.returnvalue, cell.id);
            if (!accelSeen) {
              accelSeen = true;
              events.onAccel(result.accel as AccelChoice, result.record.worker);
            }
            const files = Object.fromEntries(Object.entries(result.files).map(([name, data]) => [name, gunzipSync(Buffer.from(data, 'base64'))]));
            finish(cell, result.record, files);
          } catch (error) {
            finish(cell, failedCellRecord(cell, `infrastructure error: ${(error as Error).message}`, job.processedBy ?? 'unknown'));
          }
        } else if (state === 'failed') {
          finish(
            cell,
            failedCellRecord(
              cell,
              `infrastructure error: the cell job failed after ${job.attemptsStarted} attempts: ${job.failedReason}`,
              job.processedBy ?? 'unknown',
            ),
          );
        }
      }
      if (open.size > 0) await sleep(this.pollMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export const bullmqEngine: ExecutorEngine = {
  name: BULLMQ,
  /** A Redis URL given on the command line alone means the fleet. */
  impliedBy: (flags) => Boolean(flags.redis),
  configure: (flags, experiment, env) => new BullmqExecutor(bullmqSettings(flags, experiment, env)),
  resumedElsewhere: (recorded, runId) =>
    `run ${runId} was started on a fleet (${recorded.redis ?? 'Redis'}); resuming it here runs its unfinished cells locally, while the fleet may still run the queued ones (--redis URL collects them instead)`,
};

registerExecutor(bullmqEngine);
