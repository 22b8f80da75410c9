/**
 * The history of an experiment (pure): its runs, oldest first, as one series per cell (kernel ×
 * variant × workload × function) of points {run, commit, figure or status}, and the steps between
 * consecutive measured points, each with the runs and commits on either side and, where `kexp
 * nightly --bisect` looked, the commit it found or why it did not look.
 *
 * A point is the report's cell for that run (src/report/model.ts), so a point that is not ok
 * carries its status and never a number. A step is what `kexp compare` calls a change (the same
 * compareCells), so the history and the nightly agree on what changed. A missing point (a run
 * that planned the cell but has no figure for it: interrupted, or a damaged cell record) is shown
 * but makes no step: the steps join the points that were measured.
 */
import { cellAt, indexRows, type Cell } from '../model.js';
import { compareCells } from '../compare.js';
import type { NightlyBisectResult, NightlyRecord } from '../../results/nightly.js';
import type { ReportInput } from '../../records/index.js';

export interface HistoryRunInput {
  input: ReportInput;
  /** "kernel/variant" → the commit its kernel was built from (a git source), null when unknown. */
  commits: Record<string, string | null>;
  /** What kexp nightly recorded for this run (its bisections), when it did. */
  nightly?: NightlyRecord;
  /** The functions and tracepoints its experiment counts (else those it has figures for). */
  counted?: string[];
}

/** A run folder left out of the history, and why (a damaged record). */
export interface SkippedRun {
  run: string;
  problem: string;
}

export interface HistoryRun {
  id: string;
  startedAt: string;
  state: 'complete' | 'incomplete';
  /** "kernel/variant" → commit (null: not a git source, or not known). */
  commits: Record<string, string | null>;
}

export interface HistoryPoint {
  /** Index into History.runs. */
  run: number;
  runId: string;
  commit: string | null;
  cell: Cell;
}

/** One side of a step. */
export interface StepEnd {
  /** Index into the series' points. */
  point: number;
  run: string;
  commit: string | null;
  /** The cell's label: "3", "CRASHED". */
  label: string;
}

export interface HistoryBisection {
  state: 'pending' | 'running' | 'done';
  /** What the bisection judged for this change. */
  predicate: string;
  good: { run: string; commit: string };
  bad: { run: string; commit: string };
  bisectId?: string;
  result?: NightlyBisectResult;
  /** How many changes share this bisection, this one included. */
  shared: number;
}

export interface HistoryStep {
  before: StepEnd;
  after: StepEnd;
  /** "3 → 2", "2 → CRASHED". */
  text: string;
  figureChanged: boolean;
  statusChanged: boolean;
  /** ok before, not ok after. */
  newFailure: boolean;
  /** Both sides built from one commit: the step did not come from the kernel's source. */
  sameCommit: boolean;
  bisection?: HistoryBisection;
  /** Why kexp nightly did not bisect it. */
  note?: string;
}

export interface HistorySeries {
  kernel: string;
  variant: string;
  workload: string;
  function: string;
  points: HistoryPoint[];
  steps: HistoryStep[];
}

export interface History {
  kind: 'history';
  experiment: string;
  /** Oldest first. */
  runs: HistoryRun[];
  /** Kernel by kernel, variant by variant, function by function (the report's first), workload by workload. */
  series: HistorySeries[];
  skipped: SkippedRun[];
}

export interface HistoryOptions {
  /** Functions to list first (the experiment's report function). */
  functions?: string[];
  skipped?: SkippedRun[];
}

export function commitKey(kernel: string, variant: string): string {
  return `${kernel}/${variant}`;
}

/** The git commit a kernel artifact was built from: its own field, else its source id ("git-<commit>"). */
export function artifactCommit(artifact: { commit?: string; sourceId?: string } | undefined): string | null {
  if (!artifact) return null;
  if (artifact.commit && /^[0-9a-f]{40,64}$/.test(artifact.commit)) return artifact.commit;
  return /^git-([0-9a-f]{40,64})$/.exec(artifact.sourceId ?? '')?.[1] ?? null;
}

export function buildHistory(experiment: string, inputs: readonly HistoryRunInput[], options: HistoryOptions = {}): History {
  const ordered = [...inputs].sort((a, b) => a.input.startedAt.localeCompare(b.input.startedAt) || a.input.runId.localeCompare(b.input.runId));
  const runs: HistoryRun[] = ordered.map((r) => ({ id: r.input.runId, startedAt: r.input.startedAt, state: r.input.state, commits: { ...r.commits } }));
  // The newest run's order (the experiment as it is now), then whatever older runs had besides.
  const newestFirst = [...ordered].reverse();
  const union = (lists: string[][]): string[] => [...new Set(lists.flat())];
  const kernels = union(newestFirst.map((r) => [...r.input.kernels, ...r.input.rows.map((x) => x.kernel)]));
  const variants = union(newestFirst.map((r) => [...r.input.variants, ...r.input.rows.map((x) => x.variant)]));
  const workloads = union(newestFirst.map((r) => [...r.input.workloads, ...r.input.rows.map((x) => x.workload)]));
  const functions = union([options.functions ?? [], ...newestFirst.map((r) => r.input.rows.map((x) => x.function))]);
  const measured = new Set(ordered.flatMap((r) => r.input.rows.map((x) => JSON.stringify([x.kernel, x.variant, x.workload, x.function]))));
  const indexes = ordered.map((r) => new Map(functions.map((fn) => [fn, indexRows(r.input.rows, fn)])));
  const counted = ordered.map((r) => new Set(r.counted ?? r.input.rows.map((x) => x.function)));

  const series: HistorySeries[] = [];
  for (const kernel of kernels) {
    for (const variant of variants) {
      for (const fn of functions) {
        for (const workload of workloads) {
          if (!measured.has(JSON.stringify([kernel, variant, workload, fn]))) continue;
          const points: HistoryPoint[] = [];
          ordered.forEach((r, i) => {
            const input = r.input;
            const exact = input.rows.some((x) => x.kernel === kernel && x.variant === variant && x.workload === workload && x.function === fn);
            const planned = input.kernels.includes(kernel) && input.variants.includes(variant) && input.workloads.includes(workload) && counted[i]!.has(fn);
            if (!exact && !planned) return;
            const cell = cellAt(input, indexes[i]!.get(fn)!, { kernel, workload, variant, function: fn });
            points.push({ run: i, runId: input.runId, commit: r.commits[commitKey(kernel, variant)] ?? null, cell });
          });
          series.push({ kernel, variant, workload, function: fn, points, steps: stepsOf(points, ordered) });
        }
      }
    }
  }
  return { kind: 'history', experiment, runs, series, skipped: [...(options.skipped ?? [])] };
}

function stepsOf(points: HistoryPoint[], runs: readonly HistoryRunInput[]): HistoryStep[] {
  const steps: HistoryStep[] = [];
  let previous: number | undefined;
  points.forEach((point, i) => {
    if (point.cell.status === 'missing') return;
    if (previous !== undefined) {
      const before = points[previous]!;
      const compared = compareCells(before.cell, point.cell);
      if (compared.changed) {
        const end = (p: HistoryPoint, index: number): StepEnd => ({ point: index, run: p.runId, commit: p.commit, label: p.cell.label });
        steps.push({
          before: end(before, previous),
          after: end(point, i),
          text: `${before.cell.label} → ${point.cell.label}`,
          figureChanged: compared.figureChanged,
          statusChanged: compared.statusChanged,
          newFailure: compared.newFailure,
          sameCommit: before.commit !== null && before.commit === point.commit,
          ...nightlyFindings(runs[point.run]!.nightly, point.cell),
        });
      }
    }
    previous = i;
  });
  return steps;
}

/** What the nightly of the step's later run found out about this cell's change. */
function nightlyFindings(nightly: NightlyRecord | undefined, cell: Cell): Pick<HistoryStep, 'bisection' | 'note'> {
  if (!nightly) return {};
  const same = (x: { kernel: string; variant: string; workload: string }): boolean =>
    x.kernel === cell.kernel && x.variant === cell.variant && x.workload === cell.workload;
  for (const b of nightly.bisections) {
    if (!same(b)) continue;
    const change = b.changes.find((c) => c.function === cell.function);
    if (!change) continue;
    return {
      bisection: {
        state: b.state,
        predicate: change.predicate,
        good: { ...b.good },
        bad: { ...b.bad },
        ...(b.bisectId ? { bisectId: b.bisectId } : {}),
        ...(b.result ? { result: b.result } : {}),
        shared: b.changes.length,
      },
    };
  }
  const note = nightly.notes.find((n) => same(n) && n.function === cell.function);
  return note ? { note: note.text } : {};
}

/** Every step of the history, newest first, with its series. */
export function allSteps(history: History): { series: HistorySeries; step: HistoryStep }[] {
  const found = history.series.flatMap((series) => series.steps.map((step) => ({ series, step, at: series.points[step.after.point]!.run })));
  return found.sort((a, b) => b.at - a.at).map(({ series, step }) => ({ series, step }));
}
