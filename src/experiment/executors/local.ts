/**
 * The local executor: every build in turn in this process (each kernel variant once), then the
 * image and the accelerator once for the run, then every cell with a concurrency limit.
 */
import { join } from 'node:path';
import pLimit from 'p-limit';
import { buildImage, type GuestImage } from '../../image/image.js';
import type { KernelArtifact } from '../../kernel/build.js';
import { chooseAccel, type AccelChoice, type AccelRequest } from '../../vm/accel.js';
import type { Workspace } from '../cell.js';
import type { Executor, ExecutorEvents, WorkUnit } from '../executor.js';
import { failedCellRecord, prefetchSources, runBuild, runCell } from '../work.js';

export interface LocalExecutorOptions {
  ws: Workspace;
  /** Cells at once. */
  jobs: number;
  /** Where a cell writes its files (the run's cells/<id>/). */
  cellDir: (id: string) => string;
  image: { perf: boolean };
  accel: AccelRequest;
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  constructor(private readonly options: LocalExecutorOptions) {}

  async run(units: WorkUnit[], events: ExecutorEvents, signal: AbortSignal): Promise<void> {
    const { ws } = this.options;
    events.onPhase?.('building');
    const kernels = new Map<WorkUnit, KernelArtifact>();
    const buildErrors = new Map<WorkUnit, string>();
    const prefetch = prefetchSources(ws, units.map((u) => u.build));
    try {
      for (const unit of units) {
        events.onBuildStart?.(unit.build);
        const outcome = await runBuild(ws, unit.build, (p) => events.onBuildProgress?.(unit.build, p));
        if (outcome.artifact) kernels.set(unit, outcome.artifact);
        else buildErrors.set(unit, outcome.provenance.error ?? 'build failed');
        events.onBuild(unit.build, outcome.provenance, 'local');
      }
    } finally {
      await prefetch;
    }

    events.onPhase?.('image');
    // One image and one accelerator for every cell: settled here, recorded, handed down.
    const image: GuestImage = await buildImage({ root: ws.root, layout: ws.layout, store: ws.store, signal: ws.signal }, this.options.image);
    events.onImage(image);
    const firstKernel = [...kernels.values()][0];
    let accel: AccelChoice | undefined;
    if (firstKernel) {
      accel = await chooseAccel(this.options.accel, { kernel: join(firstKernel.dir, 'bzImage'), initrd: image.initramfs, cacheDir: ws.layout.root, logger: ws.logger, signal: ws.signal });
      events.onAccel(accel, 'local');
    }

    events.onPhase?.('running');
    const limit = pLimit(Math.max(1, this.options.jobs));
    // Repetitions interleaved, as planned: r0 of every kernel variant first.
    const cells = units.flatMap((unit) => unit.cells.map((cell) => ({ unit, cell }))).sort((a, b) => a.cell.rep - b.cell.rep);
    // Settle every cell before reporting a failure, so none is left running behind our back.
    const outcomes = await Promise.allSettled(
      cells.map(({ unit, cell }) =>
        limit(async () => {
          if (signal.aborted) return;
          const buildError = buildErrors.get(unit);
          if (buildError) {
            events.onCellResult(cell, failedCellRecord(cell, buildError));
            return;
          }
          events.onCellStart?.(cell, 'local');
          const kernel = kernels.get(unit);
          const record = await runCell(ws, cell, { image, ...(accel ? { accel } : {}), ...(kernel ? { kernel } : {}), outDir: this.options.cellDir(cell.id), worker: 'local' }, signal);
          events.onCellResult(cell, record);
        }),
      ),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.reason;
  }
}
