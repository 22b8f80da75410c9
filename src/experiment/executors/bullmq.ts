/**
 * The BullMQ executor: the run's units of work go to a Redis queue that `kexp worker` processes
 * on any number of machines, and their results come back here, to the run's only writer. The
 * image is built here (and published to the shared store) so every cell boots the same one;
 * each build job fans out to its cells. The queue outlives this process: a coordinator that was
 * stopped or killed is resumed with `kexp run --resume`, which collects what finished meanwhile.
 */
import { gunzipSync } from 'node:zlib';
import { Job, Queue } from 'bullmq';
import { CancelledError } from '../../core/errors.js';
import { kexpVersion } from '../../core/version.js';
import { buildImage } from '../../image/image.js';
import type { AccelChoice } from '../../vm/accel.js';
import type { Workspace } from '../cell.js';
import type { Executor, ExecutorEvents, WorkUnit } from '../executor.js';
import type { CellJob, OnlyFilter } from '../plan.js';
import { failedCellRecord } from '../work.js';
import { buildJobId, buildJobs, buildResult, cellJobId, parseCellResult, PREFIX, QUEUE } from '../../fleet/jobs.js';
import { connectRedis, probeRedis } from '../../fleet/redis.js';
import type { SharedStore } from '../../fleet/shared-store.js';

export interface BullmqExecutorOptions {
  ws: Workspace;
  redisUrl: string;
  run: { id: string; experimentText: string; only: OnlyFilter };
  image: { perf: boolean };
  shared?: SharedStore;
  /** How often the queue is read for finished jobs. */
  pollMs?: number;
  /** Said to the user (e.g. that Redis is unreachable and being retried). */
  say?: (line: string) => void;
}

export class BullmqExecutor implements Executor {
  readonly name = 'bullmq';
  constructor(private readonly options: BullmqExecutorOptions) {}

  async run(units: WorkUnit[], events: ExecutorEvents, signal: AbortSignal): Promise<void> {
    const { ws, redisUrl, shared } = this.options;
    await probeRedis(redisUrl);
    events.onPhase?.('image');
    const image = await buildImage({ root: ws.root, layout: ws.layout, store: ws.store, signal }, this.options.image);
    if (shared) await shared.publish('images', image.key);
    events.onImage(image);

    const connection = await connectRedis(redisUrl, (message) => this.options.say?.(message));
    const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
    queue.on('error', (error) => ws.logger.warn({ error: error.message }, 'redis queue error')); // said once by connectRedis; BullMQ would print each with its stack
    try {
      const run = {
        id: this.options.run.id,
        kexp: kexpVersion(),
        experimentText: this.options.run.experimentText,
        only: this.options.run.only,
        imageKey: image.key,
      };
      // Jobs already there (a resumed run) keep their state: adding an existing id changes nothing.
      await queue.addBulk(buildJobs(run, units));
      events.onPhase?.('running');
      await this.collect(queue, units, events, signal);
      // Every cell is recorded: the run's jobs are no longer needed (finished ones age out anyway).
      for (const unit of units) await queue.remove(buildJobId(run.id, unit.build.kernel, unit.build.variant), { removeChildren: true }).catch(() => 0);
    } finally {
      await queue.close().catch(() => undefined);
      connection.disconnect();
    }
  }

  /** Reads the run's jobs until every cell has a result, handing each result to the events once. */
  private async collect(queue: Queue, units: WorkUnit[], events: ExecutorEvents, signal: AbortSignal): Promise<void> {
    const runId = this.options.run.id;
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
          `stopped while the fleet was running the cells: they go on (kexp run --resume ${this.options.run.id} collects them, kexp run --cancel ${this.options.run.id} drops them)`,
        );
      for (const unit of [...builds]) {
        const job = await Job.fromId(queue, buildJobId(runId, unit.build.kernel, unit.build.variant));
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
        const job = await Job.fromId(queue, id);
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
      if (open.size > 0) await sleep(this.options.pollMs ?? 250, signal);
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
