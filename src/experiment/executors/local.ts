/**
 * The local executor: every build in turn in this process (each kernel variant once), the image
 * and the accelerator once for the run (beside the builds, from the first kernel built), then
 * every cell with a concurrency limit. Nothing of a run outlives this process: a resume runs the
 * cells not done, and there is nothing queued to cancel (Ctrl-C stops a local run).
 */
import { join } from 'node:path';
import pLimit from 'p-limit';
import { InputError } from '../../core/errors.js';
import { buildImage, type GuestImage } from '../../image/image.js';
import type { KernelArtifact } from '../../kernel/build.js';
import { chooseAccel, type AccelChoice } from '../../vm/accel.js';
import { imageNeedsPerf } from '../cell.js';
import { workspaceOf } from '../../store/workspace.js';
import type { CancelOutcome, CancelRequest, Executor, ExecutorEngine, ExecutorEvents, ExecutorRecord, ExecutorRun, WorkUnit } from '../executor.js';
import { failedCellRecord, prefetchSources, runBuild, runCell } from '../work.js';

interface CellSetup {
  image: GuestImage;
  accel?: AccelChoice;
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly runsHere = true;

  describe(): ExecutorRecord {
    return { name: this.name };
  }

  /** Nothing to reach: the host itself is checked by the command (kexp doctor's checks) before a run. */
  async preflight(): Promise<void> {}

  resume(run: ExecutorRun, events: ExecutorEvents, signal: AbortSignal): Promise<void> {
    // Nothing ran on after the run stopped: its units not done are simply run.
    return this.run(run, events, signal);
  }

  async cancel(request: CancelRequest): Promise<CancelOutcome> {
    throw new InputError(
      `run ${request.id} ran ${request.recorded ? `with the ${request.recorded.name} executor` : 'here'}: nothing of it is queued`,
      'a local run stops with Ctrl-C; --cancel is for runs on a kexp worker fleet',
    );
  }

  async run(run: ExecutorRun, events: ExecutorEvents, signal: AbortSignal): Promise<void> {
    const { ws, units } = run;
    events.onPhase?.('building');
    const kernels = new Map<WorkUnit, KernelArtifact>();
    const buildErrors = new Map<WorkUnit, string>();
    const prefetch = prefetchSources(
      ws,
      units.map((u) => u.build),
    );
    // One image and one accelerator for every cell, settled once, recorded, handed down. They are
    // settled as soon as the first kernel exists, while the other kernels build: the image is a
    // few small compiles, and a KVM probe on a host where KVM does not work waits out its timeout
    // (15 s here) doing nothing, time a cold run need not spend after the last make.
    let setup: Promise<CellSetup> | undefined;
    try {
      for (const unit of units) {
        events.onBuildStart?.(unit.build);
        const outcome = await runBuild(ws, unit.build, (p) => events.onBuildProgress?.(unit.build, p));
        if (outcome.artifact) kernels.set(unit, outcome.artifact);
        else buildErrors.set(unit, outcome.provenance.error ?? 'build failed');
        events.onBuild(unit.build, outcome.provenance, 'local');
        if (outcome.artifact && !setup) {
          setup = settleSetup(run, outcome.artifact, events);
          // Awaited below; until then a failure must not count as unhandled.
          setup.catch(() => undefined);
        }
      }
    } catch (error) {
      await setup?.catch(() => undefined);
      throw error;
    } finally {
      await prefetch;
    }

    events.onPhase?.('image');
    const { image, accel } = await (setup ?? settleSetup(run, undefined, events));

    events.onPhase?.('running');
    const limit = pLimit(Math.max(1, run.jobs));
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
          const record = await runCell(
            ws,
            cell,
            { image, ...(accel ? { accel } : {}), ...(kernel ? { kernel } : {}), outDir: run.cellDir(cell.id), worker: 'local' },
            signal,
          );
          events.onCellResult(cell, record);
        }),
      ),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.reason;
  }
}

/** The run's image, and the accelerator chosen by a probe boot of the first kernel built. */
async function settleSetup(run: ExecutorRun, firstKernel: KernelArtifact | undefined, events: ExecutorEvents): Promise<CellSetup> {
  const { ws, experiment } = run;
  const image: GuestImage = await buildImage(workspaceOf(ws), { perf: imageNeedsPerf(experiment.collectors) });
  events.onImage(image);
  if (!firstKernel) return { image };
  const accel = await chooseAccel(experiment.accel, {
    kernel: join(firstKernel.dir, 'bzImage'),
    initrd: image.initramfs,
    cacheDir: ws.layout.root,
    logger: ws.logger,
    signal: ws.signal,
  });
  events.onAccel(accel, 'local');
  return { image, accel };
}

export const localEngine: ExecutorEngine = {
  name: 'local',
  configure: () => new LocalExecutor(),
};
