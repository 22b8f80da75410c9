import type { Command } from 'commander';
import { resultsRoot } from '../results/store.js';
import { historyExperiment, loadHistory } from '../report/history/load.js';
import { historyFormats, renderHistory } from '../report/history/render.js';
import { action, type Registrar } from './action.js';
import { parseHistoryFormat } from './options.js';

export const registerHistory: Registrar = (program: Command) => {
  program
    .command('history')
    .description('every figure of every cell across the runs of an experiment, oldest to newest, with the commit of each run and the steps between them')
    .argument('[experiment]', 'experiment name (as its runs record it) or file (default: the experiment of the latest run)')
    .option('-f, --format <format>', historyFormats.join(', '), (value: string) => parseHistoryFormat(value), 'text')
    .option('--results <dir>', 'where run records are (default: $KEXP_RESULTS or results/)')
    .option('--json', 'same as --format json')
    .addHelpText(
      'after',
      `
Examples:
  kexp history nightly                       the table of every run of experiments/nightly.json
  kexp history nightly --format html > history.html   one self-contained page, a trend chart per cell

A step is a figure or a status that changed from one run to the next; each names the runs and
commits on either side, and the first bad commit when kexp nightly --bisect found it.
A run whose record is damaged is left out with a warning on stderr; the rest still shows.`,
    )
    .action(
      action('history', async (ctx, options: { format: string; results?: string }, args) => {
        const resultsDir = resultsRoot(ctx.root, options.results);
        const experiment = historyExperiment(ctx.root, resultsDir, args[0]);
        const { history, warnings } = loadHistory(resultsDir, experiment);
        for (const warning of warnings) ctx.err(`kexp: warning: ${warning}`);
        ctx.out(renderHistory(ctx.json ? 'json' : parseHistoryFormat(options.format), history).replace(/\n$/, ''));
        return 0;
      }),
    );
};
