/**
 * `kexp run`: plan → units of work (each kernel variant built once, with the cells that boot
 * it) → an executor, here or elsewhere → the run record and its reports. Interrupted, it leaves
 * the record marked incomplete with every finished cell kept; resumed, it runs only the cells not
 * done. Which executor and what it does are the executor's (executor.ts): this file names none.
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
import type { Workspace } from '../store/workspace.js';
import { writeReports } from '../report/write.js';
import { workUnits, type CancelOutcome, type Executor, type ExecutorEngine, type ExecutorEvents, type ExecutorFlags, type WorkUnit } from './executor.js';
import { chooseExecutor, DEFAULT_EXECUTOR, executorNames, findExecutor } from './executors/index.js';
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

/**
 * A run that stopped before every cell was recorded (interrupted, or its executor failed). What
 * finished is kept as a valid record with its reports; `run` says where, and how to resume it;
 * `cause` is why it stopped, which decides the exit code.
 */
export class IncompleteRunError extends Error {
  constructor(
    readonly run: { id: string; dir: string },
    cause: unknown,
  ) {
    super(`run ${run.id} stopped incomplete: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'IncompleteRunError';
  }
}

export async function startRun(env: RunEnv, experimentFile: string, only: OnlyFilter): Promise<RunOutcome> {
  const loaded = loadExperiment(env.root, experimentFile, { executors: executorNames() });
  const plan = planRun(loaded.experiment, only);
  const executor = await checkedExecutor(env, loaded.experiment);
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
  return execute(env, store, loaded.experiment, plan, executor, 'run');
}

/** The root a recorded run resolves its kernels and variants in: its own layer when it has one. */
export function runRoot(root: string, runDir: string): string {
  return existsSync(join(runDir, 'layer', LAYER_FILE)) ? join(runDir, 'layer') : root;
}

/** The experiment as the run recorded it, checked against what this project (and this kexp) has now. */
function recordedExperiment(env: RunEnv, store: RunStore): Experiment {
  return parseExperiment(join(store.dir, 'experiment.json'), store.experimentText(), { ...loadCatalog(env.root), executors: executorNames() });
}

/** The cells of the plan the manifest does not call done, as units of work. */
function openWork(plan: RunPlan, manifest: RunManifest): WorkUnit[] {
  return workUnits(plan, new Set(plan.cells.filter((c) => manifest.cells[c.id]?.state !== 'done').map((c) => c.id)));
}

export async function resumeRun(given: RunEnv, runId: string): Promise<RunOutcome> {
  const store = RunStore.open(given.resultsDir, runId);
  const env = { ...given, root: runRoot(given.root, store.dir) };
  const manifest = store.manifest();
  const experiment = recordedExperiment(env, store);
  const plan = planRun(experiment, (manifest.only ?? {}) as OnlyFilter);
  if (manifest.cancelledAt)
    throw new InputError(`run ${runId} was cancelled (${manifest.cancelledAt}): it is not resumed`, `start a new run: kexp run ${store.dir}/experiment.json`);
  const executor = await checkedExecutor(env, experiment);
  // Resumed by another executor than the one that started it: that one may still be at work.
  const recorded = manifest.executor;
  if (recorded && recorded.name !== executor.name) {
    const note = findExecutor(recorded.name)?.resumedElsewhere?.(recorded, runId);
    if (note) env.say?.(note);
  }
  // A cell the manifest calls done whose record is missing or damaged is run again.
  for (const id of store.damagedCells()) manifest.cells[id]!.state = 'pending';
  manifest.state = 'running';
  store.writeManifest(manifest);
  return execute(env, store, experiment, plan, executor, 'resume');
}

/**
 * Stop a run for good (`kexp run --cancel`), through the executor that ran it: a fleet's queued
 * jobs leave the queue, and the record says it was cancelled. A local run has nothing queued
 * anywhere (its executor says so): Ctrl-C stops it.
 */
export async function cancelRun(given: RunEnv, runId: string): Promise<CancelOutcome & { manifest: RunManifest }> {
  const store = RunStore.open(given.resultsDir, runId);
  const env = { ...given, root: runRoot(given.root, store.dir) };
  const manifest = store.manifest();
  const engine = recordedEngine(manifest);
  if (manifest.state === 'complete') throw new InputError(`run ${runId} is complete: there is nothing to cancel`);
  const experiment = recordedExperiment(env, store);
  const executor = engine.configure({ ...env.executor, executor: engine.name }, experiment, process.env);
  const plan = planRun(experiment, (manifest.only ?? {}) as OnlyFilter);
  const outcome = await executor.cancel({ id: runId, units: openWork(plan, manifest), ...(manifest.executor ? { recorded: manifest.executor } : {}) });
  const m = store.manifest();
  m.state = 'incomplete';
  m.cancelledAt = new Date().toISOString();
  store.writeManifest(m);
  return { ...outcome, manifest: m };
}

/** The engine that ran a recorded run (a run recorded before executors were, ran here). */
function recordedEngine(manifest: RunManifest): ExecutorEngine {
  const name = manifest.executor?.name ?? DEFAULT_EXECUTOR;
  const engine = findExecutor(name);
  if (!engine)
    throw new InputError(`run ${manifest.id} ran with the ${name} executor, which this kexp does not have`, `executors here: ${executorNames().join(', ')}`);
  return engine;
}

/** The executor the run uses, its engine reached before anything is recorded (a wrong URL or password fails in seconds). */
async function checkedExecutor(env: RunEnv, experiment: Experiment): Promise<Executor> {
  const executor = chooseExecutor(env.executor ?? {}, experiment);
  await executor.preflight();
  return executor;
}

/** Runs the open units through the executor, recording everything that comes back; an interruption keeps what finished. */
async function execute(env: RunEnv, store: RunStore, experiment: Experiment, plan: RunPlan, executor: Executor, mode: 'run' | 'resume'): Promise<RunOutcome> {
  const manifest = store.manifest();
  const units = openWork(plan, manifest);
  const jobs = env.jobs ?? defaultJobs(experiment.memoryMiB);
  updateManifest(store, (m) => {
    m.executor = executor.describe();
  });
  const run = {
    ws: env,
    id: manifest.id,
    experiment,
    experimentText: store.experimentText(),
    only: (manifest.only ?? {}) as OnlyFilter,
    units,
    jobs,
    cellDir: (id: string) => store.cellDir(id),
    ...(env.say ? { say: env.say } : {}),
  };
  const events = recordingEvents(env, store, plan, units, jobs);
  try {
    await (mode === 'run' ? executor.run(run, events, env.signal) : executor.resume(run, events, env.signal));
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
    throw new IncompleteRunError({ id: store.manifest().id, dir: store.dir }, error);
  }
  writeReports(store.dir);
  return { store, manifest: store.manifest(), experiment, findings: hasFindings(store) };
}

/**
 * The executor's events as the run's record and its progress: the single writer. A result that
 * arrives twice (a job run again after its worker was lost) is recorded once.
 */
function recordingEvents(env: RunEnv, store: RunStore, plan: RunPlan, units: WorkUnit[], jobs: number): ExecutorEvents {
  const pending = units.reduce((n, unit) => n + unit.cells.length, 0);
  const progress: RunProgress = {
    phase: 'building',
    builds: { done: 0, total: units.length },
    cells: { done: plan.cells.length - pending, running: 0, total: plan.cells.length, failed: 0 },
  };
  const emit = (): void => env.onProgress?.({ ...progress, builds: { ...progress.builds }, cells: { ...progress.cells } });
  const cellSeconds: number[] = [];
  const running = new Set<string>();
  return {
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
      if (isFinding(record)) progress.cells.failed++;
      const eta = estimateSecondsLeft({ finishedCellSeconds: cellSeconds, cellsLeft: progress.cells.total - progress.cells.done, parallel: jobs });
      if (eta === undefined) delete progress.etaSeconds;
      else progress.etaSeconds = eta;
      env.logger.info({ cell: cell.id, status: record.status, worker: record.worker }, 'cell done');
      emit();
    },
  };
}

/** Any sample of the run failed, crashed or hung, or a cell is not ok. */
function hasFindings(store: RunStore): boolean {
  return store.cellRecords().some(isFinding);
}

function updateManifest(store: RunStore, change: (m: RunManifest) => void): void {
  const m = store.manifest();
  change(m);
  store.writeManifest(m);
}
