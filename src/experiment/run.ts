/**
 * `kexp run`: plan → units of work (each kernel variant built once, with the cells that boot
 * it) → an executor, here or on a fleet → the run record and its reports. Interrupted, it leaves
 * the record marked incomplete with every finished cell kept; resumed, it runs only the cells not
 * done.
 */
import { cpSync, existsSync } from 'node:fs';
import { isGeneratedLayer, LAYER_FILE } from '../config/layers.js';
import { cpus, freemem, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { isFinding } from '../records/index.js';
import { capture } from '../core/proc.js';
import { kexpVersion } from '../core/version.js';
import { packageRoot } from '../core/paths.js';
import type { BuildProgress } from '../kernel/build.js';
import { loadExperiment, parseExperiment, type Experiment } from '../config/experiment.js';
import { loadCatalog } from '../config/catalog.js';
import { RunStore, newRunId, type RunManifest } from '../results/store.js';
import type { Workspace } from './cell.js';
import { writeReports } from '../report/write.js';
import { workUnits } from './executor.js';
import { chooseExecutor, createExecutor, describeExecutor, type ExecutorChoice, type ExecutorFlags } from './executors/index.js';
import { probeRedis } from '../fleet/redis.js';
import { planRun, type OnlyFilter, type RunPlan } from './plan.js';
import { estimateSecondsLeft } from './eta.js';

export interface RunEnv extends Workspace {
  resultsDir: string;
  jobs?: number;
  /** Where the cells run: flags (else $KEXP_EXECUTOR, $KEXP_REDIS, $KEXP_STORE, the experiment file, local). */
  executor?: ExecutorFlags;
  /** A line for the user (e.g. Redis unreachable, retrying). */
  say?: (line: string) => void;
  onProgress?: (progress: RunProgress) => void;
}

export interface RunProgress {
  phase: 'building' | 'image' | 'running' | 'reporting';
  builds: { done: number; total: number; current?: string; detail?: string };
  cells: { done: number; running: number; total: number; failed: number };
  etaSeconds?: number;
}

export interface RunOutcome {
  store: RunStore;
  manifest: RunManifest;
  experiment: Experiment;
  /** Any sample failed, crashed or hung (a finding). */
  findings: boolean;
}

/**
 * Cells at once: one more VM than cores (a TCG guest is not busy all the time: measured on 2
 * cores, the default experiment's 18 boots take 61 s two at a time and 54 s three at a time),
 * fewer when the memory left for VMs is short.
 */
export function defaultJobs(memoryMiB: number): number {
  const byMemory = Math.floor((freemem() / 2 ** 20 - 512) / (memoryMiB + 256));
  return Math.max(1, Math.min(cpus().length + 1, byMemory));
}

async function provenance(): Promise<Pick<RunManifest, 'kexp' | 'host' | 'qemu'>> {
  const commit = await capture('git', ['-C', packageRoot(), 'rev-parse', 'HEAD']).catch(() => null);
  const dirty = commit ? (await capture('git', ['-C', packageRoot(), 'status', '--porcelain', '--untracked-files=no']).catch(() => '')) !== '' : false;
  const qemu = await capture('qemu-system-x86_64', ['--version'])
    .then((v) => v.split('\n')[0] ?? null)
    .catch(() => null);
  return {
    kexp: { version: kexpVersion(), commit: commit ? `${commit}${dirty ? '-dirty' : ''}` : null },
    host: { hostname: hostname(), kernel: release(), cpus: cpus().length, memoryMiB: Math.round(totalmem() / 2 ** 20) },
    qemu,
  };
}

export async function startRun(env: RunEnv, experimentFile: string, only: OnlyFilter): Promise<RunOutcome> {
  const loaded = loadExperiment(env.root, experimentFile);
  const plan = planRun(loaded.experiment, only);
  const choice = await checkedExecutor(env, loaded.experiment);
  let id = newRunId(loaded.experiment.name);
  for (let n = 2; existsSync(join(env.resultsDir, id)); n++) id = `${newRunId(loaded.experiment.name)}-${n}`;
  const now = new Date().toISOString();
  const manifest: RunManifest = {
    schema: 'kexp/run@1',
    id,
    experiment: loaded.experiment.name,
    experimentFile: loaded.file,
    state: 'running',
    startedAt: now,
    updatedAt: now,
    ...(Object.keys(only).length > 0 ? { only: only as Record<string, string[]> } : {}),
    ...(await provenance()),
    artifacts: { kernels: {} },
    cells: Object.fromEntries(plan.cells.map((c) => [c.id, { kernel: c.kernel, variant: c.variant, rep: c.rep, state: 'pending' as const }])),
    plannedCells: plan.cells.map((c) => c.id),
  };
  const store = RunStore.create(env.resultsDir, id, loaded.text, manifest);
  // A tree, patches or a config from the command line: their layer goes with the run record, so
  // that it can be resumed (and read) whatever happens to the files it came from.
  if (isGeneratedLayer(env.root)) cpSync(env.root, join(store.dir, 'layer'), { recursive: true });
  return execute(env, store, loaded.experiment, plan, choice);
}

/** The root a recorded run resolves its kernels and variants in: its own layer when it has one. */
export function runRoot(root: string, runDir: string): string {
  return existsSync(join(runDir, 'layer', LAYER_FILE)) ? join(runDir, 'layer') : root;
}

/** The experiment as the run recorded it, checked against what this project has now. */
function recordedExperiment(env: RunEnv, store: RunStore): Experiment {
  return parseExperiment(join(store.dir, 'experiment.json'), store.experimentText(), loadCatalog(env.root));
}

export async function resumeRun(given: RunEnv, runId: string): Promise<RunOutcome> {
  const store = RunStore.open(given.resultsDir, runId);
  const env = { ...given, root: runRoot(given.root, store.dir) };
  const manifest = store.manifest();
  const experiment = recordedExperiment(env, store);
  const plan = planRun(experiment, (manifest.only ?? {}) as OnlyFilter);
  if (manifest.cancelledAt)
    throw new InputError(`run ${runId} was cancelled (${manifest.cancelledAt}): it is not resumed`, `start a new run: kexp run ${store.dir}/experiment.json`);
  const choice = await checkedExecutor(env, experiment);
  if (manifest.executor?.name === 'bullmq' && choice.name === 'local') {
    env.say?.(
      `run ${runId} was started on a fleet (${manifest.executor.redis ?? 'Redis'}); resuming it here runs its unfinished cells locally, while the fleet may still run the queued ones (--redis URL collects them instead)`,
    );
  }
  // A cell the manifest calls done whose record is missing or damaged is run again.
  for (const id of store.damagedCells()) manifest.cells[id]!.state = 'pending';
  manifest.state = 'running';
  store.writeManifest(manifest);
  return execute(env, store, experiment, plan, choice);
}

/**
 * Stop a fleet run for good (`kexp run --cancel`): its queued jobs leave the queue, the workers
 * skip whatever of it they would take next, and the record says it was cancelled. A local run has
 * nothing queued anywhere: Ctrl-C stops it.
 */
export async function cancelRun(given: RunEnv, runId: string): Promise<{ removed: number; running: number; manifest: RunManifest }> {
  const store = RunStore.open(given.resultsDir, runId);
  const env = { ...given, root: runRoot(given.root, store.dir) };
  const manifest = store.manifest();
  if (manifest.executor?.name !== 'bullmq')
    throw new InputError(
      `run ${runId} ran ${manifest.executor ? `with the ${manifest.executor.name} executor` : 'here'}: nothing of it is queued`,
      'a local run stops with Ctrl-C; --cancel is for runs on a kexp worker fleet',
    );
  if (manifest.state === 'complete') throw new InputError(`run ${runId} is complete: there is nothing to cancel`);
  const experiment = recordedExperiment(env, store);
  const choice = chooseExecutor({ executor: 'bullmq', ...env.executor }, experiment);
  if (choice.name !== 'bullmq') throw new InputError("--cancel needs the fleet's Redis", '--redis URL or KEXP_REDIS');
  const plan = planRun(experiment, (manifest.only ?? {}) as OnlyFilter);
  const open = plan.cells.filter((c) => manifest.cells[c.id]?.state !== 'done');
  const { cancelFleetRun } = await import('../fleet/cancel.js');
  const outcome = await cancelFleetRun(
    choice.redis,
    runId,
    plan.builds.filter((b) => open.some((c) => c.kernel === b.kernel && c.variant === b.variant)),
    open.map((c) => c.id),
  );
  const m = store.manifest();
  m.state = 'incomplete';
  m.cancelledAt = new Date().toISOString();
  store.writeManifest(m);
  return { ...outcome, manifest: m };
}

/** The executor the run uses, its engine reached before anything is recorded (a wrong URL or password fails in seconds). */
async function checkedExecutor(env: RunEnv, experiment: Experiment): Promise<ExecutorChoice> {
  const choice = chooseExecutor(env.executor ?? {}, experiment);
  if (choice.name === 'bullmq') await probeRedis(choice.redis);
  return choice;
}

async function execute(env: RunEnv, store: RunStore, experiment: Experiment, plan: RunPlan, choice: ExecutorChoice): Promise<RunOutcome> {
  const manifest = store.manifest();
  const pending = plan.cells.filter((c) => manifest.cells[c.id]?.state !== 'done');
  const units = workUnits(plan, new Set(pending.map((c) => c.id)));
  const progress: RunProgress = {
    phase: 'building',
    builds: { done: 0, total: units.length },
    cells: { done: plan.cells.length - pending.length, running: 0, total: plan.cells.length, failed: 0 },
  };
  const emit = (): void => env.onProgress?.({ ...progress, builds: { ...progress.builds }, cells: { ...progress.cells } });
  const jobs = env.jobs ?? defaultJobs(experiment.memoryMiB);
  const executor = await createExecutor(choice, {
    ws: env,
    jobs,
    cellDir: (id) => store.cellDir(id),
    experiment,
    run: { id: manifest.id, experimentText: store.experimentText(), only: (manifest.only ?? {}) as OnlyFilter },
    ...(env.say ? { say: env.say } : {}),
  });
  updateManifest(store, (m) => {
    m.executor = describeExecutor(choice);
  });
  const cellSeconds: number[] = [];
  const running = new Set<string>();
  try {
    await executor.run(
      units,
      {
        onPhase: (phase) => {
          progress.phase = phase;
          emit();
        },
        onBuildStart: (build) => {
          progress.builds.current = `${build.kernel}/${build.variant}`;
          emit();
        },
        onBuildProgress: (_build, p: BuildProgress) => {
          progress.builds.detail = p.stage === 'compiling' ? `compiling, ${p.objects ?? 0} objects` : p.stage;
          emit();
        },
        onBuild: (build, provenance, worker) => {
          updateManifest(store, (m) => {
            m.artifacts.kernels[`${build.kernel}/${build.variant}`] = { ...provenance, ...(worker !== 'local' ? { worker } : {}) };
          });
          progress.builds.done++;
          delete progress.builds.current;
          delete progress.builds.detail;
          emit();
        },
        onImage: (image) => {
          updateManifest(store, (m) => {
            m.artifacts.image = { key: image.key, cached: image.cached };
          });
        },
        onAccel: (accel, worker) => {
          updateManifest(store, (m) => {
            m.accel = { accel: accel.accel, reason: worker === 'local' ? accel.reason : `${accel.reason} (chosen by worker ${worker})` };
          });
        },
        onCellStart: (cell) => {
          running.add(cell.id);
          progress.cells.running = running.size;
          emit();
        },
        onCellResult: (cell, record, files) => {
          // The single writer: a result that arrives twice (a job run again after its worker was
          // lost) is recorded once.
          if (store.manifest().cells[cell.id]?.state === 'done') {
            env.logger.warn({ cell: cell.id, worker: record.worker }, 'duplicate cell result ignored');
            return;
          }
          if (files) store.writeCellFiles(cell.id, files);
          store.recordCell(record);
          running.delete(cell.id);
          // A cell that never started (its kernel did not build) records 0 s: the estimate skips it.
          cellSeconds.push(record.seconds);
          progress.cells.running = running.size;
          progress.cells.done++;
          if (record.status !== 'ok' || record.samples.some((s) => s.status !== 'ok' && s.status !== 'skipped')) progress.cells.failed++;
          const eta = estimateSecondsLeft({ finishedCellSeconds: cellSeconds, cellsLeft: progress.cells.total - progress.cells.done, parallel: jobs });
          if (eta === undefined) delete progress.etaSeconds;
          else progress.etaSeconds = eta;
          env.logger.info({ cell: cell.id, status: record.status, worker: record.worker }, 'cell done');
          emit();
        },
      },
      env.signal,
    );
    updateManifest(store, (m) => {
      m.state = 'complete';
      m.finishedAt = new Date().toISOString();
    });
  } catch (error) {
    updateManifest(store, (m) => {
      m.state = 'incomplete';
    });
    // What finished is a valid record: it gets its reports, and the error says how to resume.
    writeReports(store.dir);
    if (error instanceof Error) Object.assign(error, { incompleteRun: { id: store.manifest().id, dir: store.dir } });
    throw error;
  }
  writeReports(store.dir);
  const final = store.manifest();
  const findings = store.cellRecords().some(isFinding);
  return { store, manifest: final, experiment, findings };
}

function updateManifest(store: RunStore, change: (m: RunManifest) => void): void {
  const m = store.manifest();
  change(m);
  store.writeManifest(m);
}
