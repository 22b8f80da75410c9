/** From the cells of a run to the rows the report shows (pure). */
import { computeFigures, type SampleRecord } from '../measure/figures.js';
import { workloadLabel, type Hello } from '../measure/samples.js';
import { explainFunction } from '../explain/buckets.js';
import type { Experiment } from '../config/experiment.js';
import type { CellRecord, RunManifest } from './store.js';
import { statuses, type FigureRow, type ReportInput, type Status } from './types.js';

export function figureRows(cells: CellRecord[], targets: string[]): FigureRow[] {
  const groups = new Map<string, { kernel: string; variant: string; samples: SampleRecord[]; traceable: Hello['traceable'] }>();
  for (const cell of cells) {
    const key = `${cell.kernel}\u0000${cell.variant}`;
    const group = groups.get(key) ?? { kernel: cell.kernel, variant: cell.variant, samples: [], traceable: {} };
    group.samples.push(...cell.samples);
    if (cell.traceable) group.traceable = { ...group.traceable, ...cell.traceable };
    groups.set(key, group);
  }
  const rows: FigureRow[] = [];
  for (const group of groups.values()) {
    const hello = { type: 'hello' as const, kernel: '', traceable: group.traceable, notes: [] };
    for (const figure of computeFigures(group.samples, targets, hello)) {
      const statusCounts = Object.fromEntries(statuses.map((s) => [s, 0])) as Record<Status, number>;
      for (const s of group.samples) if (workloadLabel(s.workload, s.args) === figure.workload) statusCounts[s.status]++;
      rows.push({
        kernel: group.kernel,
        variant: group.variant,
        workload: figure.workload,
        function: figure.function,
        status: figure.status,
        per_page: figure.per_page,
        fixed: figure.fixed,
        residual: figure.residual,
        ...(figure.reason ? { reason: figure.reason } : {}),
        flags: figure.flags,
        statusCounts,
        ...explainSummary(figure.workload, figure.function, group.samples),
      });
    }
  }
  return rows;
}

/** Caller frames that key a bucket in reports (kexp explain --depth chooses its own). */
export const REPORT_DEPTH = 3;

function explainSummary(workload: string, fn: string, samples: SampleRecord[]): Pick<FigureRow, 'explain'> {
  const mine = samples.filter((s) => workloadLabel(s.workload, s.args) === workload);
  if (!mine.some((s) => s.explain?.[fn])) return {};
  const e = explainFunction(workload, fn, mine, REPORT_DEPTH);
  return { explain: { buckets: e.buckets, adds_up: e.adds_up, problems: e.problems } };
}

export function reportInput(manifest: RunManifest, experiment: Experiment, cells: CellRecord[]): ReportInput {
  const targets = [...experiment.functions, ...experiment.events, ...new Set(cells.flatMap((c) => Object.keys(c.traceable?.tracepoint ?? {})))];
  const kernels = experiment.kernels.filter((k) => manifest.plannedCells.some((id) => manifest.cells[id]?.kernel === k));
  const variants = experiment.variants.filter((v) => manifest.plannedCells.some((id) => manifest.cells[id]?.variant === v));
  const onlyWorkloads = manifest.only?.workload;
  const workloads = [...new Set(experiment.workloads.filter((w) => !onlyWorkloads || onlyWorkloads.includes(w.name)).map((w) => workloadLabel(w.name, w.args)))];
  const provenance = [
    `kexp ${manifest.kexp.version}${manifest.kexp.commit ? ` (${manifest.kexp.commit.slice(0, 12)})` : ''}, run ${manifest.id}`,
    `host ${manifest.host.hostname}, ${manifest.host.cpus} cores, ${manifest.qemu ?? 'QEMU unknown'}`,
    ...(manifest.accel ? [`accelerator ${manifest.accel.accel}: ${manifest.accel.reason}`] : []),
    `${experiment.repetitions} repetition(s), sizes ${[...new Set(experiment.workloads.flatMap((w) => w.sizes ?? experiment.sizes))].join(', ')} pages; counted with ${experiment.collectors.join(', ')}`,
  ];
  return {
    runId: manifest.id,
    experiment: manifest.experiment,
    startedAt: manifest.startedAt,
    state: manifest.state === 'complete' ? 'complete' : 'incomplete',
    kernels,
    variants,
    workloads,
    rows: figureRows(cells, [...new Set(targets)]),
    provenance,
  };
}
