/**
 * Cancelling a fleet run: Ctrl-C on `kexp run --executor bullmq` leaves its queued work to the
 * fleet (so that `--resume` can collect it); `kexp run --cancel <run>` is the way to stop it for
 * good. It marks the run cancelled in Redis, where every worker looks before it starts a job of
 * the run, and removes the run's jobs that no worker holds. Jobs running at that moment finish
 * (a worker is never interrupted mid-boot from outside) and their results are left unread.
 */
import { Queue } from 'bullmq';
import type { CancelOutcome } from '../experiment/executor.js';
import { buildJobId, cancelKey, cellJobId, KEEP_SECONDS, PREFIX, QUEUE } from './jobs.js';
import { connectRedis, probeRedis } from './redis.js';

export async function cancelFleetRun(redisUrl: string, runId: string, builds: { kernel: string; variant: string }[], cells: string[]): Promise<CancelOutcome> {
  await probeRedis(redisUrl);
  const connection = await connectRedis(redisUrl, () => undefined);
  const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
  queue.on('error', () => undefined); // a lost connection fails the calls below, which say so
  try {
    await connection.set(cancelKey(runId), new Date().toISOString(), 'EX', KEEP_SECONDS);
    let removed = 0;
    let running = 0;
    // Cells first: a build job whose children are gone is then removed with nothing held.
    const ids = [...cells.map((c) => cellJobId(runId, c)), ...builds.map((b) => buildJobId(runId, b.kernel, b.variant))];
    for (const id of ids) {
      const state = await queue.getJobState(id);
      if (state === 'unknown') continue;
      if (state === 'active') {
        running++;
        continue;
      }
      const gone = await queue.remove(id, { removeChildren: true }).catch(() => 0);
      if (gone && state !== 'completed' && state !== 'failed') removed++;
      else if (!gone) running++;
    }
    return { removed, running };
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
}
