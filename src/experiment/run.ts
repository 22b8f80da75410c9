/**
 * `kexp run`: plan → builds (each kernel variant once, shared by its cells) → the image → cells
 * through an executor → the run record and its reports. Interrupted, it leaves the record marked
 * incomplete with every finished cell kept; resumed, it runs only the cells not done.
 */
import { existsSync } from 'node:fs';
import { cpus, freemem, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { CancelledError, isKexpError } from '../core/errors.js';
import { capture } from '../core/proc.js';
import { kexpVersion } from '../core/version.js';
import { packageRoot } from '../core/paths.js';
import { listWorkloads } from '../image/image.js';
import { buildImage } from '../image/image.js';
import { buildKernel, type BuildProgress } from '../kernel/build.js';
import { chooseAccel, type AccelChoice } from '../vm/accel.js';
import { loadExperiment, parseExperiment, type Experiment } from '../config/experiment.js';
import { listKernelNames } from '../config/recipe.js';
import { listVariants } from '../config/variants.js';
import { RunStore, newRunId, type CellRecord, type RunManifest } from '../results/store.js';
import { imageNeedsPerf, runBootCell, type Workspace } from './cell.js';
import { writeReports } from '../report/write.js';
import { LocalExecutor, type Executor } from './executor.js';
import { planRun, type CellJob, type OnlyFilter, type RunPlan } from './plan.js';

export interface RunEnv extends Workspace {
  resultsDir: string;
  jobs?: number;
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
  const qemu = await capture('qemu-system-x86_64', ['--version']).then((v) => v.split('\n')[0] ?? null).catch(() => null);
  return {
    kexp: { version: kexpVersion(), commit: commit ? `${commit}${dirty ? '-dirty' : ''}` : null },
    host: { hostname: hostname(), kernel: release(), cpus: cpus().length, memoryMiB: Math.round(totalmem() / 2 ** 20) },
    qemu,
  };
}

export async function startRun(env: RunEnv, experimentFile: string, only: OnlyFilter): Promise<RunOutcome> {
  const loaded = loadExperiment(env.root, experimentFile, listWorkloads(env.root));
  const plan = planRun(loaded.experiment, only);
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
  return execute(env, store, loaded.experiment, plan);
}

export async function resumeRun(env: RunEnv, runId: string): Promise<RunOutcome> {
  const store = RunStore.open(env.resultsDir, runId);
  const manifest = store.manifest();
  const experiment = parseExperiment(join(store.dir, 'experiment.json'), store.experimentText(), { kernels: listKernelNames(env.root), variants: listVariants(env.root), workloads: listWorkloads(env.root) });
  const plan = planRun(experiment, (manifest.only ?? {}) as OnlyFilter);
  manifest.state = 'running';
  store.writeManifest(manifest);
  return execute(env, store, experiment, plan);
}

async function execute(env: RunEnv, store: RunStore, experiment: Experiment, plan: RunPlan): Promise<RunOutcome> {
  const manifest = store.manifest();
  const pending = plan.cells.filter((c) => manifest.cells[c.id]?.state !== 'done');
  const progress: RunProgress = {
    phase: 'building',
    builds: { done: 0, total: plan.builds.length },
    cells: { done: plan.cells.length - pending.length, running: 0, total: plan.cells.length, failed: 0 },
  };
  const emit = (): void => env.onProgress?.({ ...progress, builds: { ...progress.builds }, cells: { ...progress.cells } });
  const buildFailures = new Map<string, string>();
  try {
    // Builds: every kernel variant a pending cell needs, once; cells only ever hit the store.
    const needed = plan.builds.filter((b) => pending.some((c) => c.kernel === b.kernel && c.variant === b.variant));
    progress.builds.total = needed.length;
    for (const build of needed) {
      const name = `${build.kernel}/${build.variant}`;
      progress.builds.current = name;
      emit();
      try {
        const artifact = await buildKernel(
          { root: env.root, layout: env.layout, store: env.store, logger: env.logger, signal: env.signal, onProgress: (p: BuildProgress) => { progress.builds.detail = p.stage === 'compiling' ? `compiling, ${p.objects ?? 0} objects` : p.stage; emit(); } },
          build.kernel,
          build.variant,
        );
        const r = artifact.record;
        updateManifest(store, (m) => {
          m.artifacts.kernels[name] = { key: artifact.key, inputKey: r.inputKey, source: r.source.label, sourceId: r.source.sourceId, patches: r.patches.map((p) => ({ name: p.name, sha256: p.sha256 })), ...(r.configSha256 ? { configSha256: r.configSha256 } : {}), compiler: r.compiler, cached: artifact.cached };
        });
      } catch (error) {
        if (error instanceof CancelledError || env.signal.aborted) throw error;
        // A variant that does not build is a finding about that variant, not the end of the run.
        const reason = `build failed: ${(error as Error).message.split('\n').slice(0, 6).join(' / ')}`;
        buildFailures.set(name, reason);
        updateManifest(store, (m) => {
          m.artifacts.kernels[name] = { key: '', error: reason };
        });
        env.logger.warn({ build: name, err: error }, 'build failed');
      }
      progress.builds.done++;
      delete progress.builds.detail;
      emit();
    }
    delete progress.builds.current;

    progress.phase = 'image';
    emit();
    // One image and one accelerator for every cell: built and chosen here, recorded, handed down.
    const image = await buildImage({ root: env.root, layout: env.layout, store: env.store, signal: env.signal }, { perf: imageNeedsPerf(experiment.collectors) });
    updateManifest(store, (m) => {
      m.artifacts.image = { key: image.key, cached: image.cached };
    });
    const firstKernel = Object.values(store.manifest().artifacts.kernels).find((k) => k.key);
    let accel: AccelChoice | undefined;
    if (firstKernel) {
      accel = await chooseAccel(experiment.accel, { kernel: join(env.store.path('kernels', firstKernel.key), 'bzImage'), initrd: image.initramfs, cacheDir: env.layout.root, logger: env.logger, signal: env.signal });
      const chosen = accel;
      updateManifest(store, (m) => {
        m.accel = { accel: chosen.accel, reason: chosen.reason };
      });
    }

    progress.phase = 'running';
    emit();
    const started = Date.now();
    let finishedHere = 0;
    const jobs = env.jobs ?? defaultJobs(experiment.memoryMiB);
    const runCell = async (job: CellJob, signal: AbortSignal): Promise<CellRecord> => {
      const failedBuild = buildFailures.get(`${job.kernel}/${job.variant}`);
      if (failedBuild) return failedCellRecord(job, failedBuild);
      const t0 = Date.now();
      try {
        const cell = await runBootCell(job.spec, { root: env.root, layout: env.layout, store: env.store, logger: env.logger.child({ cell: job.id }), signal, outDir: store.cellDir(job.id), image, ...(accel ? { accel } : {}) });
        const o = cell.outcome;
        return {
          schema: 'kexp/cell@1',
          id: job.id,
          kernel: job.kernel,
          variant: job.variant,
          rep: job.rep,
          status: o.status,
          ...(o.reason ? { reason: o.reason } : {}),
          ...(o.excerpt ? { excerpt: o.excerpt } : {}),
          accel: o.accel,
          kernelKey: cell.kernel.key,
          imageKey: cell.image.key,
          seconds: (Date.now() - t0) / 1000,
          worker: 'local',
          traceable: o.hello?.traceable ?? null,
          warnings: o.warnings.map((w) => ({ title: w.title, excerpt: w.excerpt })),
          agentErrors: o.agentErrors,
          samples: o.samples,
        };
      } catch (error) {
        if (error instanceof CancelledError || signal.aborted) throw error;
        if (!isKexpError(error)) throw error;
        return failedCellRecord(job, error.message);
      }
    };
    const executor: Executor = new LocalExecutor(jobs, runCell);
    await executor.run(pending, {
      onStart: () => {
        progress.cells.running++;
        emit();
      },
      onResult: (job, record) => {
        store.recordCell(record);
        progress.cells.running = Math.max(0, progress.cells.running - 1);
        progress.cells.done++;
        finishedHere++;
        if (record.status !== 'ok' || record.samples.some((s) => s.status !== 'ok' && s.status !== 'skipped')) progress.cells.failed++;
        const left = progress.cells.total - progress.cells.done;
        progress.etaSeconds = Math.round((((Date.now() - started) / 1000 / finishedHere) * left) / Math.min(jobs, Math.max(1, left)));
        env.logger.info({ cell: job.id, status: record.status }, 'cell done');
        emit();
      },
    }, env.signal);
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
  const findings = store.cellRecords().some((c) => c.status !== 'ok' || c.samples.some((s) => s.status === 'failed' || s.status === 'crashed' || s.status === 'hung'));
  return { store, manifest: final, experiment, findings };
}

function updateManifest(store: RunStore, change: (m: RunManifest) => void): void {
  const m = store.manifest();
  change(m);
  store.writeManifest(m);
}

function failedCellRecord(job: CellJob, reason: string): CellRecord {
  const samples = job.spec.plan.runs.flatMap((r) => r.sizes.map((pages) => ({ workload: r.workload, args: r.args, pages, rep: job.rep, status: 'failed' as const, reason, counts: {}, result: null })));
  return { schema: 'kexp/cell@1', id: job.id, kernel: job.kernel, variant: job.variant, rep: job.rep, status: 'failed', reason, accel: 'none', kernelKey: null, imageKey: null, seconds: 0, worker: 'local', traceable: null, warnings: [], agentErrors: [], samples };
}
