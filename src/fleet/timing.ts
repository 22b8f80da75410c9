/**
 * How long a worker's jobs and its stop take. Kept apart from worker.ts so that `kexp worker
 * --help` can state them without loading BullMQ.
 */

/** A job's lock lasts this long without renewal (renewed every half): a killed worker's job is taken over after about this plus STALL_CHECK_MS. */
export const LOCK_MS = 15_000;
export const STALL_CHECK_MS = 10_000;
/** A stopped worker has ended within this many seconds of the signal, whatever Redis does. */
export const STOP_BOUND_S = 10;
/** Handing a job back to the queue may take this long; past it, the job is left to stall. */
export const HAND_BACK_MS = 5_000;
/** Past this, a stop no longer waits for Redis: children are killed and the worker returns (the rest of STOP_BOUND_S is for exiting). */
export const STOP_DEADLINE_MS = 7_000;
/** Once the worker returned, the process exits within this even if a connection still holds it. */
export const EXIT_GRACE_MS = 1_000;
