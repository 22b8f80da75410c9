/**
 * The history as plain text (72 columns, for a terminal or a mail): per kernel, variant and
 * function one table of runs (oldest first) × workloads, the commit of each run beside it, a
 * figure that stepped marked with '!', then the steps with the runs and commits on either side
 * and what the bisection found. Pure.
 */
import type { History, HistorySeries } from './build.js';
import { alignMarkers, layoutTable, MAIL_WIDTH, wrap } from '../render/layout.js';
import { HISTORY_NOTE, historyHeading, runLabel, seriesName, shortCommit, stepFindings, stepText } from './common.js';

/** Series that share a table: one kernel, variant and function. */
export function groupSeries(history: History): HistorySeries[][] {
  const groups = new Map<string, HistorySeries[]>();
  for (const series of history.series) {
    const key = JSON.stringify([series.kernel, series.variant, series.function]);
    groups.set(key, [...(groups.get(key) ?? []), series]);
  }
  return [...groups.values()];
}

function unitWord(fn: string): string {
  return fn.includes('/') ? 'events' : 'calls';
}

export function renderHistoryText(history: History): string {
  const lines: string[] = [...wrap(historyHeading(history), MAIL_WIDTH)];
  for (const group of groupSeries(history)) {
    const first = group[0]!;
    lines.push('', ...wrap(`${first.kernel} ${first.variant}: ${first.function} ${unitWord(first.function)} per faulted page`, MAIL_WIDTH));
    const runs = [...new Set(group.flatMap((s) => s.points.map((p) => p.run)))].sort((a, b) => a - b);
    const stepped = new Set(group.flatMap((s, j) => s.steps.map((step) => `${j}:${s.points[step.after.point]!.run}`)));
    const columns = group.map((series, j) =>
      runs.map((run) => {
        const point = series.points.find((p) => p.run === run);
        if (!point) return { text: '', marked: false };
        const marked = stepped.has(`${j}:${run}`);
        return { text: `${point.cell.text}${marked ? '!' : ''}`, marked };
      }),
    );
    const aligned = alignMarkers(columns);
    const commitOf = (run: number): string => shortCommit(group.map((s) => s.points.find((p) => p.run === run)?.commit).find((c) => c) ?? null);
    // A kernel that is not built from git has no commit to show: no column for it.
    const withCommits = runs.some((run) => commitOf(run) !== '-');
    lines.push(
      ...layoutTable({
        firstHeader: 'run',
        headers: [...(withCommits ? ['commit'] : []), ...group.map((s) => s.workload)],
        rows: runs.map((run, i) => ({
          first: runLabel(history, run),
          cells: [...(withCommits ? [commitOf(run)] : []), ...aligned.map((column) => column[i]!)],
        })),
      }),
    );
    const steps = group.flatMap((series) => series.steps.map((step) => ({ series, step })));
    if (steps.length > 0) {
      lines.push('', `Steps (the figure after one ends in '!'):`);
      for (const { series, step } of steps) {
        lines.push(...wrap(`- ${series.workload}: ${stepText(step)}`, MAIL_WIDTH, '    '));
        for (const finding of stepFindings(step)) lines.push(...wrap(finding, MAIL_WIDTH - 4, '  ').map((l) => `    ${l}`));
      }
    }
  }
  if (history.series.length === 0) lines.push('', 'No figures: none of these runs has a measured cell.');
  const changed = history.series.filter((s) => s.steps.length > 0);
  lines.push(
    '',
    ...wrap(
      changed.length === 0
        ? 'No figure or status changed from one run to the next.'
        : `${changed.length} of ${history.series.length} cells changed at least once: ${changed.map(seriesName).join('; ')}.`,
      MAIL_WIDTH,
    ),
  );
  lines.push('', ...wrap(HISTORY_NOTE, MAIL_WIDTH));
  if (history.skipped.length > 0) {
    lines.push('', `Left out (${history.skipped.length}):`);
    for (const s of history.skipped) lines.push(...wrap(`- run ${s.run}: ${s.problem}`, MAIL_WIDTH, '    '));
  }
  return `${lines.join('\n')}\n`;
}
