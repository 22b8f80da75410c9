/**
 * The plan as BullMQ jobs (pure). One job per kernel build; when the build is done, its worker
 * adds that build's cells as its children (a flow tree in which no child has two parents). Job
 * ids derive from the run and the cell, with nothing but letters, digits and `_.-~` (BullMQ keys
 * use ':' as a separator). Job data carries names, not commands: a worker re-plans the experiment
 * it carries and runs only cells of that plan.
 */
import { z } from 'zod';
import { parseExperiment, type Experiment } from '../config/experiment.js';
import { planRun, type CellJob, type OnlyFilter } from '../experiment/plan.js';
import type { WorkUnit } from '../experiment/executor.js';
import type { ArtifactProvenance, CellRecord } from '../results/store.js';

export const QUEUE = 'kexp';
export const PREFIX = 'kexp';

/** A cell that keeps killing its worker is given up after this many stalls (attempts = stalls + 1). */
export const MAX_STALLS = 2;
/** A job whose processor throws (kexp itself failed) is tried this often. */
export const ATTEMPTS = 2;
/** Finished jobs stay in Redis this long, so that `kexp run --resume` can collect them. */
export const KEEP_SECONDS = 7 * 24 * 3600;

/** Any character BullMQ or a job id should not see becomes '-'. */
export function jobIdPart(text: string): string {
  return text.replace(/[^\w.-]/g, '-');
}

export function buildJobId(run: string, kernel: string, variant: string): string {
  return `${jobIdPart(run)}~build~${jobIdPart(kernel)}~${jobIdPart(variant)}`;
}

export function cellJobId(run: string, cell: string): string {
  return `${jobIdPart(run)}~cell~${jobIdPart(cell)}`;
}

/** The Redis key that says a run was cancelled (`kexp run --cancel`): workers skip its jobs. */
export function cancelKey(run: string): string {
  return `${PREFIX}:cancelled:${jobIdPart(run)}`;
}

const name = z
  .string()
  .regex(/^[\w.+-]+$/)
  .max(200);
const key = z.string().regex(/^[0-9a-f]{64}$/);
const onlySchema = z.object({ kernel: z.array(name).optional(), variant: z.array(name).optional(), workload: z.array(name).optional() }).strict();

const runFields = {
  v: z.literal(1),
  /** The kexp version that planned the run: a worker of another version refuses the job. */
  kexp: z.string().max(100),
  run: name,
  /** The experiment file's text, as the run recorded it. */
  experiment: z.string().max(1_000_000),
  only: onlySchema,
  imageKey: key,
};

const provenanceSchema = z.object({ key: z.string(), error: z.string().optional() }).passthrough();

export const buildJobDataSchema = z
  .object({
    ...runFields,
    kind: z.literal('build'),
    kernel: name,
    variant: name,
    /** The cells this build fans out to (those of the run still to do when it was queued). */
    cells: z.array(name).min(1),
    /** Set by the worker once the kernel is there and the cells are queued. */
    result: z.object({ provenance: provenanceSchema, worker: z.string() }).optional(),
  })
  .strict();

export const cellJobDataSchema = z
  .object({
    ...runFields,
    kind: z.literal('cell'),
    cell: name,
    kernelKey: key,
  })
  .strict();

export type BuildJobData = z.infer<typeof buildJobDataSchema>;
export type CellJobData = z.infer<typeof cellJobDataSchema>;
export type JobData = BuildJobData | CellJobData;

export interface RunRef {
  id: string;
  kexp: string;
  experimentText: string;
  only: OnlyFilter;
  imageKey: string;
}

export interface QueuedJob<T> {
  name: 'build' | 'cell';
  data: T;
  opts: { jobId: string; attempts: number; removeOnComplete: { age: number }; removeOnFail: { age: number } };
}

function jobOptions(jobId: string): QueuedJob<unknown>['opts'] {
  return { jobId, attempts: ATTEMPTS, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } };
}

function runData(run: RunRef): Omit<BuildJobData, 'kind' | 'kernel' | 'variant' | 'cells' | 'result'> {
  return { v: 1, kexp: run.kexp, run: run.id, experiment: run.experimentText, only: run.only as BuildJobData['only'], imageKey: run.imageKey };
}

/** The jobs the coordinator queues: one per unit of work. */
export function buildJobs(run: RunRef, units: WorkUnit[]): QueuedJob<BuildJobData>[] {
  return units.map((unit) => ({
    name: 'build',
    data: { ...runData(run), kind: 'build', kernel: unit.build.kernel, variant: unit.build.variant, cells: unit.cells.map((c) => c.id) },
    opts: jobOptions(buildJobId(run.id, unit.build.kernel, unit.build.variant)),
  }));
}

/** The children a build job adds once its kernel is there. */
export function cellJobs(parent: BuildJobData, kernelKey: string): QueuedJob<CellJobData>[] {
  const { kind: _kind, kernel: _kernel, variant: _variant, cells, result: _result, ...common } = parent;
  return cells.map((cell) => ({
    name: 'cell',
    data: { ...common, kind: 'cell', cell, kernelKey },
    opts: jobOptions(cellJobId(parent.run, cell)),
  }));
}

export class JobDataError extends Error {}

export interface KnownNames {
  kernels: string[];
  variants: string[];
  workloads: string[];
  kexp: string;
}

function checkKexp(data: { kexp: string }, known: KnownNames): void {
  if (data.kexp !== known.kexp)
    throw new JobDataError(`the run was planned by kexp ${data.kexp}, this worker is kexp ${known.kexp}: run the same kexp on every machine`);
}

function parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JobDataError(`${what}: job data rejected: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  return parsed.data;
}

function replan(data: BuildJobData | CellJobData, known: KnownNames): { experiment: Experiment; cells: CellJob[] } {
  let experiment: Experiment;
  try {
    experiment = parseExperiment(`run ${data.run} (experiment.json)`, data.experiment, known);
  } catch (error) {
    throw new JobDataError((error as Error).message);
  }
  return { experiment, cells: planRun(experiment, data.only as OnlyFilter).cells };
}

/** A build job's data, validated and re-planned: the unit of work it stands for. */
export function resolveBuildJob(raw: unknown, known: KnownNames): { data: BuildJobData; experiment: Experiment; unit: WorkUnit } {
  const data = parse(buildJobDataSchema, raw, 'build job');
  checkKexp(data, known);
  const { experiment, cells: planned } = replan(data, known);
  const cells = data.cells.map((id) => {
    const cell = planned.find((c) => c.id === id);
    if (!cell || cell.kernel !== data.kernel || cell.variant !== data.variant)
      throw new JobDataError(`build job ${data.kernel}/${data.variant}: cell "${id}" is not a cell of that build in run ${data.run}`);
    return cell;
  });
  return { data, experiment, unit: { build: { kernel: data.kernel, variant: data.variant }, cells } };
}

/** A cell job's data, validated and re-planned: the cell it stands for. */
export function resolveCellJob(raw: unknown, known: KnownNames): { data: CellJobData; experiment: Experiment; cell: CellJob } {
  const data = parse(cellJobDataSchema, raw, 'cell job');
  checkKexp(data, known);
  const { experiment, cells } = replan(data, known);
  const cell = cells.find((c) => c.id === data.cell);
  if (!cell) throw new JobDataError(`cell job: "${data.cell}" is not a cell of run ${data.run}`);
  return { data, experiment, cell };
}

/** What a cell job returns: the record, its files (gzip, base64) and the accelerator its worker chose. */
export interface CellJobResult {
  record: CellRecord;
  files: Record<string, string>;
  accel: { accel: string; reason: string; nested: string };
}

const cellResultSchema = z.object({
  record: z.object({ schema: z.literal('kexp/cell@1'), id: name, worker: z.string(), samples: z.array(z.unknown()) }).passthrough(),
  files: z.record(z.string().regex(/^[\w.-]+$/), z.string()),
  accel: z.object({ accel: z.string(), reason: z.string(), nested: z.string() }),
});

/** A cell job's return value, checked before the coordinator writes anything from it. */
export function parseCellResult(raw: unknown, cellId: string): CellJobResult {
  const result = parse(cellResultSchema, raw, `result of cell ${cellId}`) as unknown as CellJobResult;
  if (result.record.id !== cellId) throw new JobDataError(`result of cell ${cellId} carries the record of cell ${result.record.id}`);
  return result;
}

export function buildResult(raw: unknown): { provenance: ArtifactProvenance; worker: string } | undefined {
  const parsed = buildJobDataSchema.shape.result.safeParse((raw as { result?: unknown } | undefined)?.result);
  return parsed.success && parsed.data ? { provenance: parsed.data.provenance as ArtifactProvenance, worker: parsed.data.worker } : undefined;
}
