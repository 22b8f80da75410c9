/**
 * Where the work of a run happens. Planning decides what; an executor decides where. The unit of
 * work is one kernel build (kernel × variant) with the cells that boot it. The local executor
 * runs units in this process; the BullMQ one hands them to workers on other machines; another
 * engine (Slurm job arrays, say) is one more file in executors/. Whatever the executor, the
 * caller stays the single writer of the run's record: everything comes back through the events.
 */
import type { BuildProgress } from '../kernel/build.js';
import type { GuestImage } from '../image/image.js';
import type { AccelChoice } from '../vm/accel.js';
import type { ArtifactProvenance, CellRecord } from '../results/store.js';
import type { BuildJob, CellJob, RunPlan } from './plan.js';

/** One kernel build and the cells that boot it. */
export interface WorkUnit {
  build: BuildJob;
  cells: CellJob[];
}

/** A cell's files (console.log, results.jsonl, qemu.json) when they were written elsewhere. */
export type CellFiles = Record<string, Buffer>;

export interface ExecutorEvents {
  onPhase?: (phase: 'building' | 'image' | 'running') => void;
  onBuildStart?: (build: BuildJob) => void;
  onBuildProgress?: (build: BuildJob, progress: BuildProgress) => void;
  onBuild: (build: BuildJob, provenance: ArtifactProvenance, worker: string) => void;
  onImage: (image: GuestImage) => void;
  onAccel: (accel: AccelChoice, worker: string) => void;
  onCellStart?: (cell: CellJob, worker: string) => void;
  /** A finished cell; `files` when they are not already in the cell's folder. */
  onCellResult: (cell: CellJob, record: CellRecord, files?: CellFiles) => void;
}

export interface Executor {
  readonly name: string;
  run(units: WorkUnit[], events: ExecutorEvents, signal: AbortSignal): Promise<void>;
}

/** The plan's builds that have a cell still to run, each with those cells, in plan order. Pure. */
export function workUnits(plan: RunPlan, pendingCellIds: ReadonlySet<string>): WorkUnit[] {
  return plan.builds
    .map((build) => ({ build, cells: plan.cells.filter((c) => c.kernel === build.kernel && c.variant === build.variant && pendingCellIds.has(c.id)) }))
    .filter((unit) => unit.cells.length > 0);
}
