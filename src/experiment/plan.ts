/**
 * The plan of a run (pure): an experiment expands into kernel builds and cells. A cell is one
 * boot of one kernel variant for one repetition, running every workload at every size, so a
 * hung or crashed boot costs one repetition, not the whole matrix.
 */
import { programRun } from '../image/plan.js';
import { InputError } from '../core/errors.js';
import type { Experiment } from '../config/experiment.js';
import type { CellSpec } from './cell.js';
import { splitList } from '../core/list.js';

export interface CellJob {
  /** Stable within a run; safe as a folder name and a queue job id (no ':'). */
  id: string;
  kernel: string;
  variant: string;
  rep: number;
  spec: CellSpec;
}

export interface BuildJob {
  kernel: string;
  variant: string;
}

export interface RunPlan {
  builds: BuildJob[];
  cells: CellJob[];
}

export interface OnlyFilter {
  kernel?: string[];
  variant?: string[];
  workload?: string[];
}

export const filterKeys = ['kernel', 'variant', 'workload'] as const;

/**
 * "kernel=6.12,variant=continue" or "kernel=6.1+6.12"; repeated keys add values. Anything else is
 * refused rather than half-read: a part without exactly one "=", an unknown key, an empty value.
 */
export function parseOnly(text: string | undefined): OnlyFilter {
  const filter: OnlyFilter = {};
  if (text === undefined) return filter;
  const parts = splitList(text);
  const example = 'e.g. --only kernel=6.12,variant=baseline+continue,workload=uffd-populate';
  if (parts.length === 0) throw new InputError(`--only: expected key=value filters, found "${text}"`, example);
  for (const part of parts) {
    const pieces = part.split('=');
    const [key, value] = pieces.map((p) => p.trim());
    if (pieces.length !== 2 || !key || !value) {
      throw new InputError(`--only: "${part}" is not key=value (one "=", values joined with +)`, example);
    }
    if (!(filterKeys as readonly string[]).includes(key)) {
      throw new InputError(`--only: unknown key "${key}" in "${part}": expected key=value with a key of ${filterKeys.join(', ')}`, example);
    }
    const values = value.split('+').map((v) => v.trim());
    if (values.some((v) => v === '')) throw new InputError(`--only: "${part}" has an empty value`, `values are joined with +, e.g. ${key}=a+b`);
    const k = key as (typeof filterKeys)[number];
    filter[k] = [...new Set([...(filter[k] ?? []), ...values])];
  }
  return filter;
}

/** A name as it appears in a cell id and a folder name: anything but letters, digits, _ . - becomes -. */
export function cleanName(name: string): string {
  return name.replace(/[^\w.-]/g, '-');
}

export function cellId(kernel: string, variant: string, rep: number): string {
  return cleanName(`${kernel}_${variant}_r${rep}`);
}

/** Two cells with one id would share a folder and a record: refused, naming both. */
export function checkCellIds(cells: Pick<CellJob, 'id' | 'kernel' | 'variant' | 'rep'>[]): void {
  const seen = new Map<string, Pick<CellJob, 'kernel' | 'variant' | 'rep'>>();
  for (const cell of cells) {
    const other = seen.get(cell.id);
    if (other) {
      const same = other.kernel === cell.kernel && other.variant === cell.variant;
      throw new InputError(
        same
          ? `kernel "${cell.kernel}" with variant "${cell.variant}" is planned twice (cell ${cell.id})`
          : `kernel "${other.kernel}" with variant "${other.variant}" and kernel "${cell.kernel}" with variant "${cell.variant}" both make the cell id "${cell.id}"`,
        same
          ? 'list each kernel and each variant once'
          : 'cell ids keep letters, digits, _ . and - of the names (the rest becomes -, and _ joins kernel and variant): rename one of them',
      );
    }
    seen.set(cell.id, cell);
  }
}

export function planRun(experiment: Experiment, only: OnlyFilter = {}): RunPlan {
  const pick = <T extends string>(all: T[], wanted: string[] | undefined, what: string): T[] => {
    if (!wanted) return all;
    for (const w of wanted)
      if (!all.includes(w as T)) throw new InputError(`--only: ${what} "${w}" is not in this experiment`, `its ${what}s: ${all.join(', ')}`);
    return all.filter((x) => wanted.includes(x));
  };
  const kernels = pick(experiment.kernels, only.kernel, 'kernel');
  const variants = pick(experiment.variants, only.variant, 'variant');
  const workloadNames = pick([...new Set(experiment.workloads.map((w) => w.name))], only.workload, 'workload');
  const runs = experiment.workloads
    .filter((w) => workloadNames.includes(w.name))
    .map((w, i) => (w.program ? programRun(w, experiment.sizes, `workloads.${i}`) : { workload: w.name, args: w.args, sizes: w.sizes ?? experiment.sizes }));
  const builds: BuildJob[] = [];
  const cells: CellJob[] = [];
  for (const kernel of kernels) {
    for (const variant of variants) {
      builds.push({ kernel, variant });
      for (let rep = 0; rep < experiment.repetitions; rep++) {
        cells.push({
          id: cellId(kernel, variant, rep),
          kernel,
          variant,
          rep,
          spec: {
            kernel,
            variant,
            plan: { runs, repetitions: 1, collectors: experiment.collectors, functions: experiment.functions, events: experiment.events },
            accel: experiment.accel,
            memoryMiB: experiment.memoryMiB,
            watchdogSeconds: experiment.timeouts.watchdogSeconds,
            timeoutSeconds: experiment.timeouts.bootSeconds,
            ...(experiment.explain.length > 0 ? { explain: { functions: experiment.explain, strict: true } } : {}),
            ...(experiment.overlay ? { overlay: experiment.overlay } : {}),
          },
        });
      }
    }
  }
  checkCellIds(cells);
  // Interleave repetitions (r0 of every cell, then r1, ...) so an early stop still covers the matrix.
  cells.sort((a, b) => a.rep - b.rep);
  return { builds, cells };
}
