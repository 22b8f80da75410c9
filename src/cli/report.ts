import type { Command } from 'commander';
import { resultsRoot, RunStore } from '../results/store.js';
import { getRenderer, rendererNames } from '../report/renderer.js';
import { damagedCellsError } from '../report/write.js';
import { compareDirs, lastCompleteRun, pickRun, reportTables } from '../report/command.js';
import { runExperimentCommand, type RunCommandOptions } from './run.js';
import { resolveExperimentFile } from '../config/experiment.js';
import { action, type Registrar } from './action.js';
import { checkReportedFunction, parseFunctionNames, parseReportFormat } from './options.js';
import { finishNightly, prepareNightly, type NightlyFlags } from './nightly.js';

export const registerReport: Registrar = (program: Command) => {
  program
    .command('report')
    .description(
      'print the tables of a run: workloads × variants per kernel, per-page calls of one function; with kexp explain data, which buckets changed from the first variant',
    )
    .argument('[run]', 'run id or folder (default: the latest run)')
    .option('-f, --format <format>', `${rendererNames.join(', ')}`, (value: string) => parseReportFormat(value), 'text')
    .option('--function <name>', "the function (or group/tracepoint) to show (default: the experiment's report.function)")
    .option('--results <dir>', 'where run records are (default: $KEXP_RESULTS or results/)')
    .option('--json', 'same as --format json')
    .addHelpText(
      'after',
      '\nExit code 2 when the run record is damaged; a damaged cell record is named under the tables and on stderr, and the other cells are still shown.',
    )
    .action(
      action('report', async (ctx, options: { format: string; function?: string; results?: string }, args) => {
        const dir = pickRun(resultsRoot(ctx.root, options.results), args[0]);
        const { tables, damaged } = reportTables(dir, options.function, (name, counted, planned) =>
          checkReportedFunction('--function', name, counted, planned),
        );
        ctx.out(
          getRenderer(ctx.json ? 'json' : options.format)
            .render(tables)
            .replace(/\n$/, ''),
        );
        // A damaged cell record: the rest is reported above, then the command fails naming it.
        if (damaged.length > 0) throw damagedCellsError(damaged);
        return 0;
      }),
    );

  program
    .command('compare')
    .description(
      'compare two runs cell by cell: before → after, every changed figure or status flagged; the buckets that changed where both runs explained the function',
    )
    .argument('<runA>', 'the earlier run (id or folder)')
    .argument('<runB>', 'the later run (id or folder)')
    .option('-f, --format <format>', `${rendererNames.join(', ')}`, (value: string) => parseReportFormat(value), 'text')
    .option('--function <name>', "the function to compare (default: the later run's report.function)")
    .option('--results <dir>', 'where run records are (default: $KEXP_RESULTS or results/)')
    .option('--json', 'same as --format json')
    .addHelpText(
      'after',
      '\nExit code 1 when any cell changed; 2 when a run record is damaged (the cells that can be read are compared first, the damaged ones named).',
    )
    .action(
      action('compare', async (ctx, options: { format: string; function?: string; results?: string }, args) => {
        if (options.function !== undefined) parseFunctionNames('--function', options.function, { events: true });
        const resultsDir = resultsRoot(ctx.root, options.results);
        const { comparison, damaged } = compareDirs(RunStore.open(resultsDir, args[0]!).dir, RunStore.open(resultsDir, args[1]!).dir, options.function);
        ctx.out(
          getRenderer(ctx.json ? 'json' : options.format)
            .render(comparison)
            .replace(/\n$/, ''),
        );
        if (damaged.length > 0) throw damagedCellsError(damaged);
        return comparison.counts.changed > 0 ? 1 : 0;
      }),
    );

  program
    .command('nightly')
    .description('run an experiment, compare with its last complete run, write the comparison beside the run')
    .argument('[experiment]', 'experiment file or name (default: experiments/default.json)')
    .option('-j, --jobs <n>', 'VMs at once')
    .option('--results <dir>', 'where run records are (default: $KEXP_RESULTS or results/)')
    .option('--bisect', 'when a figure changed or a cell started failing, bisect the commits between the two runs (kernels that follow a git branch)')
    .option('--notify <command>', 'when something changed, run this command line (/bin/sh -c) with a summary on its standard input')
    .option('--json', 'print {run, previous, changed, newFailures, findings, otherChanges, bisections, notBisected, history} on stdout')
    .addHelpText(
      'after',
      `
Exit code 1 on any changed figure or status (of any counted function), any new failure, or a
sample that failed in this run.
The comparison is written as results/<run>/comparison.{txt,md,csv,json,html}, the experiment's
history as results/<run>/history.{txt,json,html} (kexp history shows it too).
--bisect: for a kernel whose recipe follows a git branch, each change is bisected between the
previous run's commit and this run's (one bisection per kernel, variant and workload; an
unfinished one is resumed by the next nightly); the first bad commit goes into the comparison,
the history and the summary. A rewritten branch gets a note and no bisection.
--notify: the summary starts with a Subject: line, so sendmail takes it as it is.
cron:    30 2 * * * cd /srv/kexp && npx kexp nightly --bisect --notify "/usr/sbin/sendmail you@example.org"
systemd: see README.md (a oneshot service and a timer).`,
    )
    .action(
      action('nightly', async (ctx, options: RunCommandOptions & NightlyFlags, args) => {
        const watch = await prepareNightly(ctx.root, resolveExperimentFile(ctx.root, args[0]), options);
        const outcome = await runExperimentCommand(ctx, args[0], options);
        const resultsDir = resultsRoot(ctx.root, options.results);
        const previous = lastCompleteRun(resultsDir, outcome.manifest.experiment, outcome.manifest.id);
        return finishNightly(ctx, watch, { outcome, resultsDir, previous });
      }),
    );
};
