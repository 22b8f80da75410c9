/** From the cells of a run to the rows the report shows (pure). */
import { computeFigures } from '../measure/figures.js';
import { workloadLabel, type Hello } from '../measure/samples.js';
import { explainFunction } from '../explain/buckets.js';
import type { Experiment } from '../config/experiment.js';
import type { CellRecord, RunManifest } from './store.js';
import { type SampleRecord, statuses, type FigureRow, type ReportInput, type Status, type TestRow, testStatuses } from '../records/index.js';

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
        ...(figure.unit && figure.unit !== 'page' ? { unit: figure.unit } : {}),
        ...(figure.per_run ? { per_run: figure.per_run } : {}),
      });
    }
  }
  return rows;
}

/**
 * Every test of every test program, per cell (kernel × variant), over its sizes and repetitions.
 * A program's tests are every test any run of it reported, in any variant of the kernel; a run
 * that has no result for one counts it as skipped when the whole program skipped (its own reason),
 * else as missing (it crashed, hung or stopped first). The program itself is one test only when no
 * run of it printed per-test results. Pure.
 */
export function testRows(cells: CellRecord[]): TestRow[] {
  const isProgram = (s: SampleRecord): boolean => s.program !== undefined || s.tests !== undefined || s.unit !== undefined;
  // The tests of each program (kernel, label), in the order first met.
  const tests = new Map<string, string[]>();
  const pseudo = (s: SampleRecord, name: string): boolean => name === s.workload && (s.tests?.results.length ?? 0) <= 1;
  for (const cell of cells) {
    for (const s of cell.samples.filter(isProgram)) {
      const key = JSON.stringify([cell.kernel, workloadLabel(s.workload, s.args)]);
      const list = tests.get(key) ?? [];
      for (const r of s.tests?.results ?? []) if (!list.includes(r.name)) list.push(r.name);
      tests.set(key, list);
    }
  }
  // The program as its own test, only where nothing finer was reported.
  for (const [key, list] of tests) {
    const label = (JSON.parse(key) as [string, string])[1];
    const real = list.filter((t) => t !== label.split(' ')[0]);
    tests.set(key, real.length > 0 ? real : list.length > 0 ? list : [label.split(' ')[0]!]);
  }
  const rows = new Map<string, TestRow>();
  const order: string[] = [];
  for (const cell of cells) {
    for (const s of cell.samples.filter(isProgram)) {
      const workload = workloadLabel(s.workload, s.args);
      for (const test of tests.get(JSON.stringify([cell.kernel, workload])) ?? []) {
        const key = JSON.stringify([cell.kernel, cell.variant, workload, test]);
        let row = rows.get(key);
        if (!row) {
          row = {
            kernel: cell.kernel,
            variant: cell.variant,
            workload,
            test,
            counts: Object.fromEntries(testStatuses.map((t) => [t, 0])) as TestRow['counts'],
            missing: 0,
            reasons: [],
          };
          rows.set(key, row);
          order.push(key);
        }
        const result = s.tests?.results.find((r) => r.name === test) ?? (s.status === 'skipped' ? s.tests?.results.find((r) => pseudo(s, r.name)) : undefined);
        const reason = result?.reason ?? (s.status === 'skipped' ? s.reason : undefined);
        if (result) row.counts[result.status]++;
        else if (s.status === 'skipped') row.counts.skip++;
        else row.missing++;
        const counted = result?.status ?? (s.status === 'skipped' ? 'skip' : 'missing');
        if (reason && counted !== 'pass' && !row.reasons.includes(reason) && row.reasons.length < 3) row.reasons.push(reason);
      }
    }
  }
  return order.map((key) => rows.get(key)!);
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
  const workloads = [
    ...new Set(experiment.workloads.filter((w) => !onlyWorkloads || onlyWorkloads.includes(w.name)).map((w) => workloadLabel(w.name, w.args))),
  ];
  const provenance = [
    `kexp ${manifest.kexp.version}${manifest.kexp.commit ? ` (${manifest.kexp.commit.slice(0, 12)})` : ''}, run ${manifest.id}`,
    `host ${manifest.host.hostname}, ${manifest.host.cpus} cores, ${manifest.qemu ?? 'QEMU unknown'}`,
    ...(manifest.accel ? [`accelerator ${manifest.accel.accel}: ${manifest.accel.reason}`] : []),
    `${experiment.repetitions} repetition(s), ${sizesText(experiment)}; counted with ${experiment.collectors.join(', ')}`,
  ];
  const tests = testRows(cells);
  return {
    runId: manifest.id,
    experiment: manifest.experiment,
    startedAt: manifest.startedAt,
    state: manifest.state === 'complete' ? 'complete' : 'incomplete',
    kernels,
    variants,
    workloads,
    rows: figureRows(cells, [...new Set(targets)]),
    ...(tests.length > 0 ? { tests } : {}),
    provenance,
  };
}

/** "sizes 64, 128 pages", and each program's own sizes: "mm:madv_populate once per repetition", "kvm:demand_paging_test {n} = 1, 2". */
function sizesText(experiment: Experiment): string {
  const workloads = experiment.workloads.filter((w) => !w.program);
  const parts = workloads.length > 0 ? [`sizes ${[...new Set(workloads.flatMap((w) => w.sizes ?? experiment.sizes))].join(', ')} pages`] : [];
  for (const w of experiment.workloads.filter((x) => x.program)) {
    const sized = w.args.some((a) => a.includes('{n}'));
    parts.push(sized ? `${w.name} {n} = ${(w.sizes ?? experiment.sizes).join(', ')}` : `${w.name} once per repetition`);
  }
  return parts.join('; ');
}
