/**
 * What `kexp nightly` does once its run is recorded: the comparison with the previous run (every
 * counted function, the report's first), the run's nightly.json (the commits its branches
 * pointed at), with --bisect the bisections of what changed (and of those an earlier nightly left
 * unfinished), the history of the experiment beside the run, and with --notify a summary handed
 * to the user's command. The command itself (flags, help) is registered in report.ts; what the
 * comparison finds, writes and makes of the exit code is decided in report/nightly-comparison.ts.
 */
import { join } from 'node:path';
import { ProcessError, run } from '../core/proc.js';
import { loadExperiment } from '../config/experiment.js';
import type { RunOutcome } from '../experiment/run.js';
import { planNightlyBisections, resolveSources, settleBisections, unfinishedBisections } from '../bisect/nightly.js';
import type { Comparison } from '../report/compare.js';
import { displayPath } from '../results/records.js';
import { readNightlyRecord, writeNightlyRecord, type NightlyRecord, type NightlySource } from '../results/nightly.js';
import { RunStore } from '../results/store.js';
import { getRenderer } from '../report/renderer.js';
import { changeText, comparisonSummary } from '../report/render/common.js';
import { bisectionTextLines, notifySummary } from '../report/nightly.js';
import { compareAllFunctions, comparisonIfReadable, nightlyVerdict, otherChangeText, writeComparison, type CellChange } from '../report/nightly-comparison.js';
import { loadHistory } from '../report/history/load.js';
import { historyExtension, historyFormats, renderHistory } from '../report/history/render.js';
import type { Logger } from '../core/log.js';
import { workspace, type CommandContext } from './context.js';
import { parseNotify } from './options.js';
import { createProgress, elapsed } from './progress.js';

export interface NightlyFlags {
  bisect?: boolean;
  notify?: string;
}

export interface NightlyWatch {
  bisect: boolean;
  notify?: string;
  /** Where each git-sourced kernel's branch pointed when the nightly started. */
  sources: Record<string, NightlySource>;
}

/** Checked before the run starts: the flags, and the branches' commits as they are now. */
export async function prepareNightly(root: string, experimentFile: string, flags: NightlyFlags): Promise<NightlyWatch> {
  const notify = flags.notify !== undefined ? parseNotify(flags.notify) : undefined;
  let kernels: string[] = [];
  try {
    kernels = loadExperiment(root, experimentFile).experiment.kernels;
  } catch {
    // the run checks the experiment and says what is wrong with it
  }
  return { bisect: Boolean(flags.bisect), ...(notify !== undefined ? { notify } : {}), sources: await resolveSources(root, kernels) };
}

export interface NightlyRun {
  outcome: RunOutcome;
  resultsDir: string;
  /** The last complete run of the experiment before this one (its folder). */
  previous: string | undefined;
}

export async function finishNightly(ctx: CommandContext, watch: NightlyWatch, nightly: NightlyRun): Promise<number> {
  const { outcome, resultsDir } = nightly;
  const dir = outcome.store.dir;
  const manifest = outcome.store.manifest();
  const recordPath = (id: string): string => displayPath(join(resultsDir, id, 'bisect.json'));
  const previousId = nightly.previous ? new RunStore(nightly.previous).manifest().id : null;
  const record: NightlyRecord = { schema: 'kexp/nightly@1', run: manifest.id, previous: previousId, sources: watch.sources, bisections: [], notes: [] };

  let comparison: Comparison | undefined;
  let changes: CellChange[] = [];
  if (nightly.previous) {
    const compared = compareAllFunctions(nightly.previous, dir);
    for (const cell of compared.damaged) ctx.err(`kexp: warning: ${cell.problem.message}; the comparison leaves it out`);
    comparison = compared.comparison;
    changes = compared.changes;
  }
  const otherChanges = changes.filter((c) => c.function !== comparison?.function);
  if (watch.bisect && nightly.previous && changes.length > 0) {
    const previousNightly = readNightlyRecord(nightly.previous).record;
    const planned = await planNightlyBisections(
      ctx.root,
      { id: previousId!, manifest: new RunStore(nightly.previous).manifest(), ...(previousNightly ? { nightly: previousNightly } : {}) },
      { id: manifest.id, manifest, nightly: record },
      changes,
    );
    record.bisections = planned.bisections;
    record.notes = planned.notes;
  }
  writeNightlyRecord(dir, record);
  if (comparison) writeComparison(dir, comparison, record, recordPath);

  if (!ctx.json) {
    if (comparison) ctx.out(getRenderer('text').render(comparison).replace(/\n$/, ''));
    else ctx.out(`no earlier complete run of "${manifest.experiment}" to compare with: this run is the reference from now on`);
    if (otherChanges.length > 0)
      ctx.out(
        [
          '',
          'Other counted functions that changed:',
          ...otherChanges.map((c) => `  ${c.kernel} ${c.variant}, ${c.workload}, ${c.function}: ${c.before.label} → ${c.after.label}`),
        ].join('\n'),
      );
  }

  const resumed: NightlyRecord[] = [];
  if (watch.bisect) {
    const progress = createProgress(true);
    const started = Date.now();
    const env = {
      ...workspace(ctx),
      resultsDir,
      onProgress: (text: string) => progress.update(`${text} [${elapsed(started)}]`),
    };
    for (const earlier of unfinishedBisections(resultsDir, manifest.experiment, manifest.id)) {
      ctx.err(`resuming the unfinished bisection(s) of run ${earlier.record.run}`);
      const earlierComparison = earlier.record.previous ? comparisonIfReadable(join(resultsDir, earlier.record.previous), earlier.dir) : undefined;
      await settleBisections(env, earlier.dir, earlier.record, () => {
        if (earlierComparison) writeComparison(earlier.dir, earlierComparison, earlier.record, recordPath);
      });
      resumed.push(earlier.record);
    }
    await settleBisections(env, dir, record, () => {
      if (comparison) writeComparison(dir, comparison, record, recordPath);
    });
    const settled = [record, ...resumed].flatMap((r) => r.bisections);
    if (settled.length > 0) progress.succeed(`${settled.length} bisection(s) in ${elapsed(started)}`);
    else progress.stop();
  }

  const { history, warnings } = loadHistory(resultsDir, manifest.experiment);
  for (const warning of warnings) ctx.err(`kexp: warning: ${warning}`);
  for (const format of historyFormats) outcome.store.writeFile(`history.${historyExtension(format)}`, renderHistory(format, history));
  const historyFile = join(dir, 'history.html');

  const { changed, newFailures, code } = nightlyVerdict(comparison, otherChanges, outcome.findings);

  if (!ctx.json) {
    const lines = bisectionTextLines(record, recordPath);
    for (const earlier of resumed)
      lines.push(...(lines.length > 0 ? [''] : []), `Resumed from the nightly of run ${earlier.run}:`, ...bisectionTextLines(earlier, recordPath));
    if (lines.length > 0) ctx.out(['', ...lines].join('\n'));
    ctx.out(`\nhistory: ${displayPath(historyFile)}`);
  }

  let notified: boolean | null = null;
  if (watch.notify !== undefined && code === 1) {
    const summary = notifySummary({
      experiment: manifest.experiment,
      run: manifest.id,
      previous: previousId,
      summary: comparison ? comparisonSummary(comparison) : null,
      changes: comparison ? comparison.changes.map(changeText) : [],
      otherChanges: otherChanges.map(otherChangeText),
      findings: outcome.findings,
      record,
      resumed,
      files: { comparison: comparison ? displayPath(join(dir, 'comparison.txt')) : null, history: displayPath(historyFile) },
      recordPath,
    });
    notified = await runNotify(
      watch.notify,
      summary,
      { KEXP_RUN: manifest.id, KEXP_RUN_DIR: dir, KEXP_EXPERIMENT: manifest.experiment },
      { signal: ctx.signal, logger: ctx.logger, warn: (text) => ctx.err(`kexp: warning: ${text}`) },
    );
  }

  if (ctx.json) {
    ctx.out(
      JSON.stringify({
        run: manifest.id,
        dir,
        previous: nightly.previous ?? null,
        changed,
        newFailures,
        findings: outcome.findings,
        otherChanges: otherChanges.map((c) => ({
          kernel: c.kernel,
          variant: c.variant,
          workload: c.workload,
          function: c.function,
          before: c.before.label,
          after: c.after.label,
        })),
        bisections: record.bisections,
        notBisected: record.notes,
        resumed: resumed.map((r) => ({ run: r.run, bisections: r.bisections })),
        history: historyFile,
        notified,
      }),
    );
  }
  return code;
}

/**
 * The user's command line, run by /bin/sh as cron runs a line, with the summary on its standard
 * input and KEXP_RUN, KEXP_RUN_DIR, KEXP_EXPERIMENT in its environment. A command that fails is
 * a warning (the nightly's own exit code already says something changed), never a lost result.
 */
export async function runNotify(
  command: string,
  summary: string,
  env: Record<string, string>,
  options: { signal?: AbortSignal; logger?: Logger; warn: (text: string) => void },
): Promise<boolean> {
  try {
    await run('/bin/sh', ['-c', command], {
      input: summary,
      env,
      timeoutMs: 5 * 60_000,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    return true;
  } catch (error) {
    if (!(error instanceof ProcessError)) throw error;
    options.warn(`--notify: ${error.message}`);
    return false;
  }
}
