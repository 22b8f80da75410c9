/**
 * `kexp worker`: takes units of work from the queue until stopped. A build job builds its kernel
 * (or finds it in the store), then adds its cells as child jobs and waits for them; a cell job
 * boots its cell with the very code the local executor uses and returns the record with its
 * files. Stopped (SIGTERM), the worker takes nothing new and hands its current jobs back to the
 * queue; killed, its jobs stall and another worker finishes them. A stop ends within STOP_BOUND_S
 * whatever Redis does: a Redis that does not answer gets HAND_BACK_MS per job, then the worker
 * kills its own children and returns, and the jobs it could not hand back stall and are taken
 * over like those of a killed worker. Redis going away while the worker runs is said in one
 * line (and its return in another); the connection retries on its own.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Queue, UnrecoverableError, WaitingChildrenError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { CancelledError, EnvironmentError, isKexpError } from '../core/errors.js';
import { killAllChildren } from '../core/proc.js';
import { redactSecrets } from '../core/redact.js';
import { kexpVersion } from '../core/version.js';
import { buildImage, imageFromStore, listWorkloads, type GuestImage } from '../image/image.js';
import { kernelFromStore, kernelInputKeyOf, type KernelArtifact } from '../kernel/build.js';
import { listKernelNames } from '../config/recipe.js';
import { listVariants } from '../config/variants.js';
import type { Experiment } from '../config/experiment.js';
import { chooseAccel, type AccelChoice } from '../vm/accel.js';
import type { CellRecord } from '../results/store.js';
import { imageNeedsPerf } from '../experiment/cell.js';
import { type Workspace, workspaceOf } from '../store/workspace.js';
import type { BuildJob } from '../experiment/plan.js';
import { failedCellRecord, kernelProvenance, runBuild, runCell, type BuildOutcome } from '../experiment/work.js';
import {
  buildResult,
  cancelKey,
  cellJobs,
  JobDataError,
  MAX_STALLS,
  PREFIX,
  QUEUE,
  resolveBuildJob,
  resolveCellJob,
  type CellJobResult,
  type KnownNames,
} from './jobs.js';
import { connectRedis, probeRedis, redactRedisUrl } from './redis.js';
import type { SharedStore } from './shared-store.js';
import { startReaper } from './reaper.js';
import { HAND_BACK_MS, LOCK_MS, STALL_CHECK_MS, STOP_DEADLINE_MS } from './timing.js';

/** The largest file a cell sends back in full; a longer one keeps its end. */
const MAX_FILE_BYTES = 8 * 2 ** 20;

export interface WorkerOptions {
  ws: Workspace;
  redisUrl: string;
  name: string;
  jobs: number;
  shared?: SharedStore;
  say: (line: string) => void;
}

function readCellFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!/^[\w.-]+$/.test(name) || !statSync(path).isFile()) continue;
    let content = readFileSync(path);
    if (content.length > MAX_FILE_BYTES)
      content = Buffer.concat([
        Buffer.from(`[kexp: the first ${content.length - MAX_FILE_BYTES} bytes were left out]\n`),
        content.subarray(content.length - MAX_FILE_BYTES),
      ]);
    files[name] = gzipSync(content).toString('base64');
  }
  return files;
}

const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Logs a repeated error once (BullMQ reports each failed reconnect of each of its connections). */
function onceInARow(log: (message: string) => void): { (error: unknown): void; reset(): void } {
  let last: string | undefined;
  const report = (error: unknown): void => {
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    if (message !== last) log(message);
    last = message;
  };
  report.reset = (): void => {
    last = undefined;
  };
  return report;
}

/** Where a worker gets what a job needs: kernels and images (built here, or from the shared store), and the accelerator. */
interface WorkerArtifacts {
  /** A build job's kernel: found in the shared store, else built here (one builder per key across the fleet). */
  build(build: BuildJob): Promise<BuildOutcome>;
  /** The kernel a cell job names by key: here, in the shared store, or built again to the same key. */
  kernel(key: string, build: BuildJob): Promise<KernelArtifact>;
  /** The image a cell job names by key, the same way. */
  image(key: string, experiment: Experiment): Promise<GuestImage>;
  /** The accelerator, chosen once per request for the whole worker. */
  accel(experiment: Experiment, kernel: KernelArtifact, image: GuestImage): Promise<AccelChoice>;
}

/** What every job of this worker is processed with. */
interface WorkerContext {
  ws: Workspace;
  name: string;
  say: (line: string) => void;
  queue: Queue;
  known: KnownNames;
  artifacts: WorkerArtifacts;
}

export async function runWorker(options: WorkerOptions): Promise<void> {
  const { ws, name, shared, say } = options;
  await probeRedis(options.redisUrl);
  startReaper();
  const known: KnownNames = { kernels: listKernelNames(ws.root), variants: listVariants(ws.root), workloads: listWorkloads(ws.root), kexp: kexpVersion() };
  const logError = onceInARow((message) => ws.logger.warn({ error: message }, 'redis connection error'));
  const connection = await connectRedis(options.redisUrl, (line) => say(line), `worker ${name}`);
  connection.on('ready', () => logError.reset());
  const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
  // Without a listener BullMQ prints each connection error with its stack; connectRedis says it once.
  queue.on('error', logError);
  const ctx: WorkerContext = { ws, name, say, queue, known, artifacts: workerArtifacts(ws, shared) };

  const worker = new Worker(QUEUE, (job: Job, token?: string) => processJob(ctx, connection, job, token), {
    connection,
    prefix: PREFIX,
    name,
    concurrency: Math.max(1, options.jobs),
    lockDuration: LOCK_MS,
    stalledInterval: STALL_CHECK_MS,
    maxStalledCount: MAX_STALLS,
    autorun: false,
  });
  worker.on('error', logError);
  worker.on('failed', (job, error) => {
    if (job) say(`job ${job.id}: failed: ${redactSecrets(error.message.split('\n')[0] ?? '')}`);
  });
  worker.on('stalled', (jobId) => say(`job ${jobId}: its worker stopped answering; back in the queue`));

  await workUntilStopped(ctx, worker, connection, logError, () =>
    say(`worker ${name}: taking jobs from ${redactRedisUrl(options.redisUrl)}, ${options.jobs} at a time${shared ? `, shared store ${shared.dir}` : ''}`),
  );
}

function workerArtifacts(ws: Workspace, shared: SharedStore | undefined): WorkerArtifacts {
  const accels = new Map<string, Promise<AccelChoice>>();
  return {
    build: async (build) => {
      if (!shared) return runBuild(ws, build);
      let inputKey: string;
      try {
        inputKey = await kernelInputKeyOf(ws.root, ws.layout, build.kernel, build.variant);
      } catch {
        return runBuild(ws, build); // it fails again there, and says why as a build failure
      }
      const found = async (): Promise<BuildOutcome | undefined> => {
        const key = shared.readIndex(`kernel-input-${inputKey}`);
        if (!key || !(await shared.fetch('kernels', key))) return undefined;
        const artifact = kernelFromStore(ws.store, key);
        return { build, provenance: kernelProvenance(artifact), artifact };
      };
      const hit = await found();
      if (hit) return hit;
      // One builder per key across the fleet; the others wait, then find it.
      return shared.lock(
        `build-${inputKey}`,
        async () => {
          const hitAfterWait = await found();
          if (hitAfterWait) return hitAfterWait;
          const outcome = await runBuild(ws, build);
          if (outcome.artifact) {
            await shared.publish('kernels', outcome.artifact.key);
            shared.writeIndex(`kernel-input-${inputKey}`, outcome.artifact.key);
          }
          return outcome;
        },
        ws.signal,
      );
    },

    kernel: async (key, build) => {
      if (ws.store.has('kernels', key) || (shared && (await shared.fetch('kernels', key)))) return kernelFromStore(ws.store, key);
      const outcome = await runBuild(ws, build);
      if (outcome.artifact?.key === key) return outcome.artifact;
      throw new EnvironmentError(
        `kernel ${build.kernel}/${build.variant} ${outcome.artifact ? `builds here as ${outcome.artifact.key.slice(0, 12)}, the run's build made ${key.slice(0, 12)}` : `does not build here (${outcome.provenance.error ?? '?'})`}: this machine's sources, patches or compiler differ`,
        'give every machine one shared store: kexp worker --store DIR and kexp run --store DIR',
      );
    },

    image: async (key, experiment) => {
      if (ws.store.has('images', key) || (shared && (await shared.fetch('images', key)))) return imageFromStore(ws.store, key);
      const built = await buildImage(workspaceOf(ws), { perf: imageNeedsPerf(experiment.collectors) });
      if (built.key === key) return built;
      throw new EnvironmentError(
        `the guest image builds here as ${built.key.slice(0, 12)}, the run uses ${key.slice(0, 12)}: this machine's kexp, compiler or busybox differ`,
        'give every machine one shared store: kexp worker --store DIR and kexp run --store DIR',
      );
    },

    accel: (experiment, kernel, image) => {
      let choice = accels.get(experiment.accel);
      if (!choice) {
        choice = chooseAccel(experiment.accel, {
          kernel: kernel.bzImage,
          initrd: image.initramfs,
          cacheDir: ws.layout.root,
          logger: ws.logger,
          signal: ws.signal,
        });
        accels.set(experiment.accel, choice);
        choice.catch(() => accels.delete(experiment.accel));
      }
      return choice;
    },
  };
}

/** Any job: skipped when its run was cancelled, refused when its data is not a job of ours, handed back when the worker stops. */
async function processJob(ctx: WorkerContext, connection: Redis, job: Job, token: string | undefined): Promise<unknown> {
  const { ws, say } = ctx;
  try {
    const run = (job.data as { run?: unknown }).run;
    if (typeof run === 'string' && (await connection.exists(cancelKey(run))) > 0) {
      say(`job ${job.id}: run ${run} was cancelled, skipped`);
      return { cancelled: true };
    }
    if (job.name === 'build') return await processBuild(ctx, job, token ?? '');
    if (job.name === 'cell') return await processCell(ctx, job);
    throw new JobDataError(`unknown job kind "${job.name}"`);
  } catch (error) {
    if (error instanceof JobDataError) {
      say(`job ${job.id}: ${error.message}`);
      throw new UnrecoverableError(error.message);
    }
    if (ws.signal.aborted && !(error instanceof WaitingChildrenError)) await handBack(job, token, error, say);
    throw error;
  }
}

/** Stopping: the job goes back to the queue for the next worker, not counted as a failure (throws either way). */
async function handBack(job: Job, token: string | undefined, error: unknown, say: (line: string) => void): Promise<never> {
  const handedBack = await within(
    job.moveToWait(token).then(
      () => true,
      () => false,
    ),
    HAND_BACK_MS,
  );
  if (handedBack !== true) {
    say(
      `job ${job.id}: not handed back (Redis ${handedBack === TIMED_OUT ? `did not answer within ${HAND_BACK_MS / 1000} s` : 'refused'}); another worker takes it once its lock expires`,
    );
    throw error;
  }
  say(`job ${job.id}: handed back`);
  throw new WaitingError();
}

/** A build job: the kernel (once, even when the job runs again), then its cells as child jobs, then waiting for them. */
async function processBuild(ctx: WorkerContext, job: Job, token: string): Promise<unknown> {
  const { data, unit } = resolveBuildJob(job.data, ctx.known);
  const label = `build ${unit.build.kernel}/${unit.build.variant} (run ${data.run})`;
  let result = buildResult(job.data);
  if (!result) {
    ctx.say(`${label}: started`);
    const t0 = Date.now();
    const outcome = await ctx.artifacts.build(unit.build);
    result = { provenance: outcome.provenance, worker: ctx.name };
    if (outcome.artifact) {
      // The cells become this job's children: one parent each, never shared.
      const children = cellJobs(data, outcome.artifact.key).map((c) => ({
        ...c,
        opts: { ...c.opts, parent: { id: job.id!, queue: job.queueQualifiedName }, ignoreDependencyOnFailure: true },
      }));
      await ctx.queue.addBulk(children);
    }
    await job.updateData({ ...data, result });
    ctx.say(
      `${label}: ${outcome.artifact ? `${outcome.artifact.cached ? 'found in the store' : 'built'} in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${unit.cells.length} cells queued` : outcome.provenance.error}`,
    );
  }
  if (result.provenance.key && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
  return result;
}

/** A cell job: booted with the very code the local executor uses; the record comes back with its files. */
async function processCell(ctx: WorkerContext, job: Job): Promise<CellJobResult> {
  const { ws, name, say, artifacts } = ctx;
  const { data, experiment, cell } = resolveCellJob(job.data, ctx.known);
  const label = `cell ${cell.id} (run ${data.run})`;
  say(`${label}: started`);
  const outDir = join(ws.layout.logs, 'fleet', `${data.run}-${cell.id}-${process.pid}-${Date.now()}`);
  mkdirSync(outDir, { recursive: true });
  try {
    let accel: AccelChoice = { accel: 'tcg', reason: 'not chosen: the cell did not get that far', nested: 'unknown' };
    let record: CellRecord;
    try {
      const kernel = await artifacts.kernel(data.kernelKey, { kernel: cell.kernel, variant: cell.variant });
      const image = await artifacts.image(data.imageKey, experiment);
      accel = await artifacts.accel(experiment, kernel, image);
      record = await runCell(ws, cell, { image, accel, kernel, outDir, worker: name });
      // Stopping while it booted: whatever the VM said then is not a result; the job goes back.
      if (ws.signal.aborted) throw new CancelledError();
    } catch (error) {
      if (error instanceof CancelledError || ws.signal.aborted || !isKexpError(error)) throw error;
      record = failedCellRecord(cell, error.message, name);
    }
    say(`${label}: ${record.status} in ${record.seconds.toFixed(1)} s`);
    return { record, files: readCellFiles(outDir), accel };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * Runs the worker until the signal stops it, then closes it: past STOP_DEADLINE_MS nothing waits
 * for Redis any more: the children go, and this returns.
 */
async function workUntilStopped(ctx: WorkerContext, worker: Worker, connection: Redis, logError: (error: unknown) => void, started: () => void): Promise<void> {
  const { ws, say } = ctx;
  let deadline: NodeJS.Timeout | undefined;
  let forceStop = (): void => undefined;
  const forced = new Promise<void>((resolve) => {
    forceStop = resolve;
  });
  const armDeadline = (): void => {
    deadline ??= setTimeout(() => {
      say(`stopping: Redis did not let go within ${STOP_DEADLINE_MS / 1000} s; the jobs not handed back go to another worker once their locks expire`);
      killAllChildren('SIGKILL');
      connection.disconnect();
      forceStop();
    }, STOP_DEADLINE_MS);
  };
  const stop = (): void => {
    say('stopping: taking no new jobs, handing back the current ones');
    armDeadline();
    worker.close().catch(logError);
  };
  try {
    if (ws.signal.aborted) return;
    ws.signal.addEventListener('abort', stop, { once: true });
    started();
    await Promise.race([worker.run(), forced]);
  } finally {
    ws.signal.removeEventListener('abort', stop);
    armDeadline();
    const closed = (async (): Promise<void> => {
      await worker.close();
      await ctx.queue.close();
    })().catch(logError);
    await Promise.race([closed, forced]);
    clearTimeout(deadline);
    connection.disconnect();
  }
}
