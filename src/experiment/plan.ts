/**
 * The plan of a run (pure): an experiment expands into kernel builds and cells. A cell is one
 * boot of one kernel variant for one repetition, running every workload at every size, so a
 * hung or crashed boot costs one repetition, not the whole matrix.
 */
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

const filterKeys = ['kernel', 'variant', 'workload'] as const;

/** "kernel=6.12,variant=continue" or "kernel=6.1+6.12"; repeated keys add values. */
export function parseOnly(text: string | undefined): OnlyFilter {
  const filter: OnlyFilter = {};
  if (!text) return filter;
  for (const part of splitList(text)) {
    const [key, value] = part.split('=');
    if (!key || !value || !(filterKeys as readonly string[]).includes(key)) {
      throw new InputError(`--only: "${part}" is not key=value with a key of ${filterKeys.join(', ')}`, 'e.g. --only kernel=6.12,variant=continue');
    }
    const k = key as (typeof filterKeys)[number];
    filter[k] = [...(filter[k] ?? []), ...value.split('+')];
  }
  return filter;
}

export function cellId(kernel: string, variant: string, rep: number): string {
  return `${kernel}_${variant}_r${rep}`.replace(/[^\w.-]/g, '-');
}

export function planRun(experiment: Experiment, only: OnlyFilter = {}): RunPlan {
  const pick = <T extends string>(all: T[], wanted: string[] | undefined, what: string): T[] => {
    if (!wanted) return all;
    for (const w of wanted) if (!all.includes(w as T)) throw new InputError(`--only: ${what} "${w}" is not in this experiment`, `the experiment has: ${all.join(', ')}`);
    return all.filter((x) => wanted.includes(x));
  };
  const kernels = pick(experiment.kernels, only.kernel, 'kernel');
  const variants = pick(experiment.variants, only.variant, 'variant');
  const workloadNames = pick([...new Set(experiment.workloads.map((w) => w.name))], only.workload, 'workload');
  const runs = experiment.workloads
    .filter((w) => workloadNames.includes(w.name))
    .map((w) => ({ workload: w.name, args: w.args, sizes: w.sizes ?? experiment.sizes }));
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
          },
        });
      }
    }
  }
  // Interleave repetitions (r0 of every cell, then r1, ...) so an early stop still covers the matrix.
  cells.sort((a, b) => a.rep - b.rep);
  return { builds, cells };
}
