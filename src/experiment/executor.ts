/**
 * Where the work of a run happens. Planning decides what; an executor decides where. The unit of
 * work is one kernel build (kernel × variant) with the cells that boot it. This interface is the
 * whole seam between a run and an engine: an engine implements it, registers itself by name
 * (executors/index.ts), and nothing outside it names it. The local executor (executors/local.ts)
 * runs units in this process; the fleet's (fleet/executor.ts) hands them to `kexp worker`s.
 * Whatever the executor, the caller stays the single writer of the run's record: everything comes
 * back through the events.
 */
import type { Experiment } from '../config/experiment.js';
import type { BuildProgress } from '../kernel/build.js';
import type { GuestImage } from '../image/image.js';
import type { AccelChoice } from '../vm/accel.js';
import type { ArtifactProvenance, CellRecord, RunManifest } from '../results/store.js';
import type { Workspace } from '../store/workspace.js';
import type { BuildJob, CellJob, OnlyFilter, RunPlan } from './plan.js';

/** One kernel build and the cells that boot it. */
export interface WorkUnit {
  build: BuildJob;
  cells: CellJob[];
}

/** A cell's files (console.log, channel.txt, qemu.json) when they were written elsewhere. */
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

/** What the command line says about where cells run (each engine reads the flags it knows). */
export interface ExecutorFlags {
  executor?: string;
  redis?: string;
  /** The shared artifact store of a fleet. */
  store?: string;
}

/** What a run's manifest says about where it ran (never a password). */
export type ExecutorRecord = NonNullable<RunManifest['executor']>;

/** A run handed to an executor: the units still to do, and what it needs to do them. */
export interface ExecutorRun {
  ws: Workspace;
  id: string;
  experiment: Experiment;
  /** The experiment file's text, as the run recorded it. */
  experimentText: string;
  only: OnlyFilter;
  units: WorkUnit[];
  /** Cells at once, for an executor that boots them in this process. */
  jobs: number;
  /** Where a cell writes its files (the run's cells/<id>/). */
  cellDir: (id: string) => string;
  /** A line for the user (e.g. that the engine is unreachable and being retried). */
  say?: (line: string) => void;
}

/** A run to stop for good: its units not done, and what its manifest says about where it ran. */
export interface CancelRequest {
  id: string;
  units: WorkUnit[];
  recorded?: ExecutorRecord;
}

export interface CancelOutcome {
  /** Units of work removed before anything took them. */
  removed: number;
  /** Units of work running at that moment: they finish, and nothing reads their results. */
  running: number;
}

export interface Executor {
  readonly name: string;
  /** Whether the cells run on this machine, seeing its files (a tree on disk, a layer kexp wrote). */
  readonly runsHere: boolean;
  /** What the run's manifest records about this executor (never a password). */
  describe(): ExecutorRecord;
  /** Checks before anything is built or recorded (the engine reachable): a KexpError says what is wrong and what to do. */
  preflight(): Promise<void>;
  /** A new run's units, until every cell has a result (or the signal stops it). */
  run(run: ExecutorRun, events: ExecutorEvents, signal: AbortSignal): Promise<void>;
  /** The units a stopped run left, collecting whatever the engine finished for it meanwhile. */
  resume(run: ExecutorRun, events: ExecutorEvents, signal: AbortSignal): Promise<void>;
  /** Stops a run for good: its queued work dropped. An InputError when the engine has nothing of it. */
  cancel(request: CancelRequest): Promise<CancelOutcome>;
}

/** An engine as the registry knows it: its name, and the executor it makes from the flags, the environment and the experiment. */
export interface ExecutorEngine {
  readonly name: string;
  /** Whether these flags alone ask for this engine (a fleet's URL, say) when nothing names one. */
  impliedBy?(flags: ExecutorFlags): boolean;
  /** The executor with its settings read and checked (pure: it reaches nothing; preflight does). An InputError names what is missing. */
  configure(flags: ExecutorFlags, experiment: Pick<Experiment, 'executor'>, env: NodeJS.ProcessEnv): Executor;
  /** A line for the user when a run this engine started is resumed by another executor: what it may still do meanwhile. */
  resumedElsewhere?(recorded: ExecutorRecord, runId: string): string | undefined;
}

/** The plan's builds that have a cell still to run, each with those cells, in plan order. Pure. */
export function workUnits(plan: RunPlan, pendingCellIds: ReadonlySet<string>): WorkUnit[] {
  return plan.builds
    .map((build) => ({ build, cells: plan.cells.filter((c) => c.kernel === build.kernel && c.variant === build.variant && pendingCellIds.has(c.id)) }))
    .filter((unit) => unit.cells.length > 0);
}
