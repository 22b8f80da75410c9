/**
 * The two units of work every executor runs, whoever runs them: build one kernel variant, and run
 * one cell into a CellRecord. The local executor calls them in this process; a fleet worker calls
 * the very same functions on another machine. Both take data in and give data out.
 */
import { CancelledError, isKexpError } from '../core/errors.js';
import { buildKernel, prefetchSourceTrees, type BuildProgress, type KernelArtifact } from '../kernel/build.js';
import type { GuestImage } from '../image/image.js';
import type { AccelChoice } from '../vm/accel.js';
import type { ArtifactProvenance, CellRecord } from '../results/store.js';
import { expandSamples, figureUnit } from '../image/plan.js';
import { runBootCell } from './cell.js';
import { type Workspace, workspaceOf } from '../store/workspace.js';
import type { BuildJob, CellJob } from './plan.js';
import { keptSourceFiles } from '../explain/source.js';

export interface BuildOutcome {
  build: BuildJob;
  /** What the run's manifest records: the artifact's key and inputs, or why it did not build. */
  provenance: ArtifactProvenance;
  /** Set when it built (or was found in the store). */
  artifact?: KernelArtifact;
}

export function kernelProvenance(artifact: KernelArtifact): ArtifactProvenance {
  const r = artifact.record;
  const commit = /^git-([0-9a-f]{40,64})$/.exec(r.source.sourceId)?.[1];
  return {
    key: artifact.key,
    inputKey: r.inputKey,
    source: r.source.label,
    sourceId: r.source.sourceId,
    ...(commit ? { commit } : {}),
    patches: r.patches.map((p) => ({ name: p.name, sha256: p.sha256 })),
    ...(r.configSha256 ? { configSha256: r.configSha256 } : {}),
    compiler: r.compiler,
    cached: artifact.cached,
  };
}

/** Build (or find in the store) one kernel variant. A variant that does not build is a finding, returned, not thrown. */
export async function runBuild(ws: Workspace, build: BuildJob, onProgress?: (progress: BuildProgress) => void): Promise<BuildOutcome> {
  try {
    const artifact = await buildKernel(
      { ...workspaceOf(ws), keepSources: keptSourceFiles, ...(onProgress ? { onProgress } : {}) },
      build.kernel,
      build.variant,
    );
    return { build, provenance: kernelProvenance(artifact), artifact };
  } catch (error) {
    if (error instanceof CancelledError || ws.signal.aborted) throw error;
    const reason = `build failed: ${(error as Error).message.split('\n').slice(0, 6).join(' / ')}`;
    ws.logger.warn({ build: `${build.kernel}/${build.variant}`, err: error }, 'build failed');
    return { build, provenance: { key: '', error: reason } };
  }
}

/** Extract the source trees of later builds at low priority while the first one builds (never throws). */
export function prefetchSources(ws: Workspace, builds: readonly BuildJob[]): Promise<void> {
  return prefetchSourceTrees(workspaceOf(ws), builds);
}

export interface CellSetup {
  image: GuestImage;
  accel?: AccelChoice;
  /** The kernel to boot (else found in the store by kernel and variant). */
  kernel?: KernelArtifact;
  /** Where console.log, channel.txt and qemu.json go. */
  outDir: string;
  /** Who runs it: "local" or a worker's name. */
  worker: string;
}

/** One cell, booted and measured. A crash, a hang or a kexp error is a record; a cancel or a bug throws. */
export async function runCell(ws: Workspace, job: CellJob, setup: CellSetup, signal: AbortSignal = ws.signal): Promise<CellRecord> {
  const t0 = Date.now();
  try {
    const cell = await runBootCell(job.spec, {
      ...workspaceOf(ws),
      logger: ws.logger.child({ cell: job.id }),
      signal,
      outDir: setup.outDir,
      image: setup.image,
      ...(setup.accel ? { accel: setup.accel } : {}),
      ...(setup.kernel ? { kernel: setup.kernel } : {}),
    });
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
      worker: setup.worker,
      traceable: o.hello?.traceable ?? null,
      warnings: o.warnings.map((w) => ({ title: w.title, excerpt: w.excerpt })),
      agentErrors: o.agentErrors,
      samples: o.samples,
    };
  } catch (error) {
    if (error instanceof CancelledError || signal.aborted) throw error;
    if (!isKexpError(error)) throw error;
    return failedCellRecord(job, error.message, setup.worker);
  }
}

/** A cell that could not run (its kernel did not build, or the infrastructure gave up on it): every sample failed, with the reason. */
export function failedCellRecord(job: CellJob, reason: string, worker = 'local'): CellRecord {
  // Every planned sample, as the plan sizes it (a program's: its pages, its unit, its {n}).
  const samples = expandSamples({ ...job.spec.plan, repetitions: 1 }).map((p) => ({
    workload: p.workload,
    args: p.args,
    pages: p.pages,
    rep: job.rep,
    status: 'failed' as const,
    reason,
    counts: {},
    result: null,
    ...(p.command ? { unit: figureUnit(p.command.unit), size: p.size ?? 0 } : {}),
  }));
  return {
    schema: 'kexp/cell@1',
    id: job.id,
    kernel: job.kernel,
    variant: job.variant,
    rep: job.rep,
    status: 'failed',
    reason,
    accel: 'none',
    kernelKey: null,
    imageKey: null,
    seconds: 0,
    worker,
    traceable: null,
    warnings: [],
    agentErrors: [],
    samples,
  };
}
