/**
 * Where cells run. Planning decides what; an executor decides where. The local executor runs
 * cells in this process with a concurrency limit; a distributed one (BullMQ) implements the same
 * interface and hands the same CellJob data to workers. Either way the caller stays the single
 * writer of the run's record: results come back through onResult.
 */
import pLimit from 'p-limit';
import type { CellJob } from './plan.js';
import type { CellRecord } from '../results/store.js';

export interface ExecutorEvents {
  onStart?: (job: CellJob) => void;
  onResult: (job: CellJob, record: CellRecord) => void;
}

export interface Executor {
  readonly name: string;
  run(jobs: CellJob[], events: ExecutorEvents, signal: AbortSignal): Promise<void>;
}

export type CellRunner = (job: CellJob, signal: AbortSignal) => Promise<CellRecord>;

export class LocalExecutor implements Executor {
  readonly name = 'local';
  constructor(private readonly concurrency: number, private readonly runCell: CellRunner) {}

  async run(jobs: CellJob[], events: ExecutorEvents, signal: AbortSignal): Promise<void> {
    const limit = pLimit(Math.max(1, this.concurrency));
    // Settle every cell before reporting a failure, so none is left running behind our back.
    const outcomes = await Promise.allSettled(
      jobs.map((job) =>
        limit(async () => {
          if (signal.aborted) return;
          events.onStart?.(job);
          events.onResult(job, await this.runCell(job, signal));
        }),
      ),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.reason;
  }
}
