/**
 * `kexp worker`: takes units of work from the queue until stopped. A build job builds its kernel
 * (or finds it in the store), then adds its cells as child jobs and waits for them; a cell job
 * boots its cell with the very code the local executor uses and returns the record with its
 * files. Stopped (SIGTERM), the worker takes nothing new and hands its current jobs back to the
 * queue; killed, its jobs stall and another worker finishes them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Queue, UnrecoverableError, WaitingChildrenError, WaitingError, Worker, type Job } from 'bullmq';
import { CancelledError, EnvironmentError, isKexpError } from '../core/errors.js';
import { kexpVersion } from '../core/version.js';
import { buildImage, imageFromStore, listWorkloads, type GuestImage } from '../image/image.js';
import { kernelFromStore, kernelInputKeyOf, type KernelArtifact } from '../kernel/build.js';
import { listKernelNames } from '../config/recipe.js';
import { listVariants } from '../config/variants.js';
import type { Experiment } from '../config/experiment.js';
import { chooseAccel, type AccelChoice } from '../vm/accel.js';
import type { CellRecord } from '../results/store.js';
import { imageNeedsPerf, type Workspace } from '../experiment/cell.js';
import type { BuildJob } from '../experiment/plan.js';
import { failedCellRecord, kernelProvenance, runBuild, runCell, type BuildOutcome } from '../experiment/work.js';
import { buildResult, cancelKey, cellJobs, JobDataError, MAX_STALLS, PREFIX, QUEUE, resolveBuildJob, resolveCellJob, type CellJobResult, type KnownNames } from './jobs.js';
import { connectRedis, probeRedis, redactRedisUrl } from './redis.js';
import type { SharedStore } from './shared-store.js';
import { startReaper } from './reaper.js';

/** A job's lock lasts this long without renewal (renewed every half): a killed worker's job is taken over after about this plus STALL_CHECK_MS. */
export const LOCK_MS = 15_000;
export const STALL_CHECK_MS = 10_000;
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
    if (content.length > MAX_FILE_BYTES) content = Buffer.concat([Buffer.from(`[kexp: the first ${content.length - MAX_FILE_BYTES} bytes were left out]\n`), content.subarray(content.length - MAX_FILE_BYTES)]);
    files[name] = gzipSync(content).toString('base64');
  }
  return files;
}

export async function runWorker(options: WorkerOptions): Promise<void> {
  const { ws, name, shared, say } = options;
  await probeRedis(options.redisUrl);
  startReaper();
  const known: KnownNames = { kernels: listKernelNames(ws.root), variants: listVariants(ws.root), workloads: listWorkloads(ws.root), kexp: kexpVersion() };
  const connection = await connectRedis(options.redisUrl, (message) => say(message));
  const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
  const accels = new Map<string, Promise<AccelChoice>>();

  const buildUnit = async (build: BuildJob): Promise<BuildOutcome> => {
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
    return shared.lock(`build-${inputKey}`, async () => {
      const hitAfterWait = await found();
      if (hitAfterWait) return hitAfterWait;
      const outcome = await runBuild(ws, build);
      if (outcome.artifact) {
        await shared.publish('kernels', outcome.artifact.key);
        shared.writeIndex(`kernel-input-${inputKey}`, outcome.artifact.key);
      }
      return outcome;
    }, ws.signal);
  };

  const kernelByKey = async (key: string, build: BuildJob): Promise<KernelArtifact> => {
    if (ws.store.has('kernels', key) || (shared && (await shared.fetch('kernels', key)))) return kernelFromStore(ws.store, key);
    const outcome = await runBuild(ws, build);
    if (outcome.artifact?.key === key) return outcome.artifact;
    throw new EnvironmentError(`kernel ${build.kernel}/${build.variant} ${outcome.artifact ? `builds here as ${outcome.artifact.key.slice(0, 12)}, the run's build made ${key.slice(0, 12)}` : `does not build here (${outcome.provenance.error ?? '?'})`}: this machine's sources, patches or compiler differ`, 'give every machine one shared store: kexp worker --store DIR and kexp run --store DIR');
  };

  const imageByKey = async (key: string, experiment: Experiment): Promise<GuestImage> => {
    if (ws.store.has('images', key) || (shared && (await shared.fetch('images', key)))) return imageFromStore(ws.store, key);
    const built = await buildImage({ root: ws.root, layout: ws.layout, store: ws.store, signal: ws.signal }, { perf: imageNeedsPerf(experiment.collectors) });
    if (built.key === key) return built;
    throw new EnvironmentError(`the guest image builds here as ${built.key.slice(0, 12)}, the run uses ${key.slice(0, 12)}: this machine's kexp, compiler or busybox differ`, 'give every machine one shared store: kexp worker --store DIR and kexp run --store DIR');
  };

  const accelFor = (experiment: Experiment, kernel: KernelArtifact, image: GuestImage): Promise<AccelChoice> => {
    let choice = accels.get(experiment.accel);
    if (!choice) {
      choice = chooseAccel(experiment.accel, { kernel: kernel.bzImage, initrd: image.initramfs, cacheDir: ws.layout.root, logger: ws.logger, signal: ws.signal });
      accels.set(experiment.accel, choice);
      choice.catch(() => accels.delete(experiment.accel));
    }
    return choice;
  };

  const processBuild = async (job: Job, token: string): Promise<unknown> => {
    const { data, unit } = resolveBuildJob(job.data, known);
    const label = `build ${unit.build.kernel}/${unit.build.variant} (run ${data.run})`;
    let result = buildResult(job.data);
    if (!result) {
      say(`${label}: started`);
      const t0 = Date.now();
      const outcome = await buildUnit(unit.build);
      result = { provenance: outcome.provenance, worker: name };
      if (outcome.artifact) {
        // The cells become this job's children: one parent each, never shared.
        const children = cellJobs(data, outcome.artifact.key).map((c) => ({ ...c, opts: { ...c.opts, parent: { id: job.id!, queue: job.queueQualifiedName }, ignoreDependencyOnFailure: true } }));
        await queue.addBulk(children);
      }
      await job.updateData({ ...data, result });
      say(`${label}: ${outcome.artifact ? `${outcome.artifact.cached ? 'found in the store' : 'built'} in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${unit.cells.length} cells queued` : outcome.provenance.error}`);
    }
    if (result.provenance.key && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
    return result;
  };

  const processCell = async (job: Job): Promise<CellJobResult> => {
    const { data, experiment, cell } = resolveCellJob(job.data, known);
    const label = `cell ${cell.id} (run ${data.run})`;
    say(`${label}: started`);
    const outDir = join(ws.layout.logs, 'fleet', `${data.run}-${cell.id}-${process.pid}-${Date.now()}`);
    mkdirSync(outDir, { recursive: true });
    try {
      let accel: AccelChoice = { accel: 'tcg', reason: 'not chosen: the cell did not get that far', nested: 'unknown' };
      let record: CellRecord;
      try {
        const kernel = await kernelByKey(data.kernelKey, { kernel: cell.kernel, variant: cell.variant });
        const image = await imageByKey(data.imageKey, experiment);
        accel = await accelFor(experiment, kernel, image);
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
  };

  const worker = new Worker(
    QUEUE,
    async (job: Job, token?: string) => {
      try {
        const run = (job.data as { run?: unknown }).run;
        if (typeof run === 'string' && (await connection.exists(cancelKey(run))) > 0) {
          say(`job ${job.id}: run ${run} was cancelled, skipped`);
          return { cancelled: true };
        }
        if (job.name === 'build') return await processBuild(job, token ?? '');
        if (job.name === 'cell') return await processCell(job);
        throw new JobDataError(`unknown job kind "${job.name}"`);
      } catch (error) {
        if (error instanceof JobDataError) {
          say(`job ${job.id}: ${error.message}`);
          throw new UnrecoverableError(error.message);
        }
        if (ws.signal.aborted && !(error instanceof WaitingChildrenError)) {
          // Stopping: the job goes back to the queue for the next worker, not counted as a failure.
          await job.moveToWait(token);
          say(`job ${job.id}: handed back`);
          throw new WaitingError();
        }
        throw error;
      }
    },
    { connection, prefix: PREFIX, name, concurrency: Math.max(1, options.jobs), lockDuration: LOCK_MS, stalledInterval: STALL_CHECK_MS, maxStalledCount: MAX_STALLS, autorun: false },
  );
  worker.on('error', (error) => ws.logger.warn({ err: error }, 'worker error'));
  worker.on('failed', (job, error) => {
    if (job) say(`job ${job.id}: failed: ${error.message.split('\n')[0]}`);
  });
  worker.on('stalled', (jobId) => say(`job ${jobId}: its worker stopped answering; back in the queue`));
  const stop = (): void => {
    say('stopping: taking no new jobs, handing back the current ones');
    void worker.close();
  };
  if (ws.signal.aborted) return;
  ws.signal.addEventListener('abort', stop, { once: true });
  say(`worker ${name}: taking jobs from ${redactRedisUrl(options.redisUrl)}, ${options.jobs} at a time${shared ? `, shared store ${shared.dir}` : ''}`);
  try {
    await worker.run();
  } finally {
    ws.signal.removeEventListener('abort', stop);
    await worker.close();
    await queue.close();
    connection.disconnect();
  }
}
