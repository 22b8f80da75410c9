/** Wording the history's renderers and the nightly's bisection notes share. Pure. */
import type { NightlyBisectResult } from '../../results/nightly.js';
import type { History, HistoryBisection, HistorySeries, HistoryStep } from './build.js';
import { displayTime, plural } from '../render/common.js';

export const HISTORY_NOTE =
  'Each figure is the per-page slope of calls = fixed + per_page * pages, fitted over every size and repetition of one run. A cell that is not ok shows its status, never a number; a missing one was planned but not measured (the run was interrupted, or its cell record is damaged).';

/** The short form of a commit, as git shows it; "-" when the run's kernel has none (not a git source). */
export function shortCommit(commit: string | null | undefined): string {
  return commit ? commit.slice(0, 12) : '-';
}

export function historyHeading(history: History): string {
  const n = history.runs.length;
  if (n === 0) return `History of experiment "${history.experiment}": no run to show`;
  const first = history.runs[0]!;
  const last = history.runs[n - 1]!;
  const span = n === 1 ? `started ${displayTime(first.startedAt)}` : `${displayTime(first.startedAt)} to ${displayTime(last.startedAt)}`;
  return `History of experiment "${history.experiment}": ${plural(n, 'run')}, ${span}`;
}

export function seriesName(series: Pick<HistorySeries, 'kernel' | 'variant' | 'workload' | 'function'>): string {
  return `${series.kernel} ${series.variant}, ${series.workload}, ${series.function}`;
}

/** "3 → 2 from run A (commit a) to run B (commit b)"; "(same commit)" when both sides built one commit. */
export function stepText(step: HistoryStep): string {
  const side = (end: HistoryStep['before']): string => `run ${end.run}${end.commit ? ` (${shortCommit(end.commit)})` : ''}`;
  const same = step.sameCommit ? ', same commit: not a change of the kernel source' : '';
  return `${step.text}${step.newFailure ? ' (new failure)' : ''} from ${side(step.before)} to ${side(step.after)}${same}`;
}

/** What a bisection found, in one sentence. */
export function bisectResultText(result: NightlyBisectResult): string {
  switch (result.kind) {
    case 'found':
      return `first bad commit ${result.commit} ${result.subject} (${plural(result.steps, 'step')})`;
    case 'ambiguous':
      return `the first bad commit is one of ${result.candidates.map((c) => `${shortCommit(c.commit)} ${c.subject}`).join('; ')} (the others could not be tested)`;
    case 'error':
      return `the bisection could not name a commit: ${result.summary}`;
  }
}

/** A step's bisection: its result, or that it is under way and resumes with the next nightly. */
export function bisectionText(bisection: HistoryBisection): string {
  const shared = bisection.shared > 1 ? `; shared by ${bisection.shared} changes of this cell` : '';
  const record = bisection.bisectId ? ` [${bisection.bisectId}]` : '';
  if (bisection.state === 'done' && bisection.result) return `${bisectResultText(bisection.result)}${record}${shared}`;
  return `bisection of ${shortCommit(bisection.good.commit)}..${shortCommit(bisection.bad.commit)} not finished${record}: the next kexp nightly --bisect resumes it${shared}`;
}

/** The text under a step: its bisection, or why there is none. */
export function stepFindings(step: HistoryStep): string[] {
  if (step.bisection) return [bisectionText(step.bisection)];
  if (step.note) return [`not bisected: ${step.note}`];
  return [];
}

/** A run as a row label: its id. */
export function runLabel(history: History, index: number): string {
  return history.runs[index]?.id ?? String(index);
}
