import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { listRuns, resultsRoot, RunStore } from '../results/store.js';
import { compareRuns, type Comparison } from '../results/compare.js';
import { buildTables } from '../report/model.js';
import { getRenderer, rendererNames } from '../report/renderer.js';
import { loadReportInput } from '../report/write.js';
import { runExperimentCommand, type RunCommandOptions } from './run.js';
import { resolveExperimentFile } from '../config/experiment.js';
import { action, type Registrar } from './action.js';

function pickRun(resultsDir: string, given: string | undefined): string {
  if (given) return RunStore.open(resultsDir, given).dir;
  const runs = listRuns(resultsDir);
  const last = runs[runs.length - 1];
  if (!last) throw new InputError(`no runs in ${resultsDir}`, 'kexp run starts one');
  return last.dir;
}

function formatOption(value: string): string {
  getRenderer(value);
  return value;
}

/** The last complete run of an experiment before `exceptId`, if any. */
export function lastCompleteRun(resultsDir: string, experiment: string, exceptId: string): string | undefined {
  const runs = listRuns(resultsDir).filter((r) => r.experiment === experiment && r.state === 'complete' && r.id !== exceptId);
  return runs[runs.length - 1]?.dir;
}

export function compareDirs(dirA: string, dirB: string, fn?: string): Comparison {
  const a = loadReportInput(dirA);
  const b = loadReportInput(dirB);
  return compareRuns(a.input, b.input, { function: fn ?? b.function });
}

export const registerReport: Registrar = (program: Command) => {
  program
    .command('report')
    .description('print the tables of a run: workloads × variants per kernel, per-page calls of one function; with kexp explain data, which buckets changed from the first variant')
    .argument('[run]', 'run id or folder (default: the latest run)')
    .option('-f, --format <format>', `${rendererNames.join(', ')}`, formatOption, 'text')
    .option('--function <name>', 'the function (or group/tracepoint) to show (default: the experiment\'s report.function)')
    .option('--results <dir>', 'where run records are (default: $KEXP_RESULTS or results/)')
    .option('--json', 'same as --format json')
    .action(action('report', async (ctx, options: { format: string; function?: string; results?: string }, args) => {
      const dir = pickRun(resultsRoot(ctx.root, options.results), args[0]);
      const loaded = loadReportInput(dir);
      const tables = buildTables(loaded.input, { function: options.function ?? loaded.function });
      ctx.out(getRenderer(ctx.json ? 'json' : options.format).render(tables).replace(/\n$/, ''));
      return 0;
    }));

  program
    .command('compare')
    .description('compare two runs cell by cell: before → after, every changed figure or status flagged; the buckets that changed where both runs explained the function')
    .argument('<runA>', 'the earlier run (id or folder)')
    .argument('<runB>', 'the later run (id or folder)')
    .option('-f, --format <format>', `${rendererNames.join(', ')}`, formatOption, 'text')
    .option('--function <name>', 'the function to compare (default: the later run\'s report.function)')
    .option('--results <dir>', 'where run records are (default: $KEXP_RESULTS or results/)')
    .option('--json', 'same as --format json')
    .addHelpText('after', '\nExit code 1 when any cell changed.')
    .action(action('compare', async (ctx, options: { format: string; function?: string; results?: string }, args) => {
      const resultsDir = resultsRoot(ctx.root, options.results);
      const comparison = compareDirs(RunStore.open(resultsDir, args[0]!).dir, RunStore.open(resultsDir, args[1]!).dir, options.function);
      ctx.out(getRenderer(ctx.json ? 'json' : options.format).render(comparison).replace(/\n$/, ''));
      return comparison.counts.changed > 0 ? 1 : 0;
    }));

  program
    .command('nightly')
    .description('run an experiment, compare with its last complete run, write the comparison beside the run')
    .argument('[experiment]', 'experiment file or name (default: experiments/default.json)')
    .option('-j, --jobs <n>', 'VMs at once', (v) => Number(v))
    .option('--results <dir>', 'where run records are (default: $KEXP_RESULTS or results/)')
    .option('--json', 'print {run, previous, changed, newFailures, findings} on stdout')
    .addHelpText('after', `
Exit code 1 on any changed figure or status, any new failure, or a sample that failed in this run.
The comparison is written as results/<run>/comparison.{txt,md,csv,json,html}.
cron:    30 2 * * * cd /srv/kexp && npx kexp nightly
systemd: see README.md (a oneshot service and a timer).`)
    .action(action('nightly', async (ctx, options: RunCommandOptions, args) => {
      resolveExperimentFile(ctx.root, args[0]);
      const outcome = await runExperimentCommand(ctx, args[0], options);
      const resultsDir = resultsRoot(ctx.root, options.results);
      const previous = lastCompleteRun(resultsDir, outcome.manifest.experiment, outcome.manifest.id);
      let changed = 0;
      let newFailures = 0;
      if (previous) {
        const comparison = compareDirs(previous, outcome.store.dir);
        changed = comparison.counts.changed;
        newFailures = comparison.counts.newFailures;
        for (const name of rendererNames) {
          const renderer = getRenderer(name);
          outcome.store.writeFile(`comparison.${renderer.extension}`, renderer.render(comparison));
        }
        if (!ctx.json) ctx.out(getRenderer('text').render(comparison).replace(/\n$/, ''));
      } else if (!ctx.json) {
        ctx.out(`no earlier complete run of "${outcome.manifest.experiment}" to compare with: this run is the reference from now on`);
      }
      if (ctx.json) ctx.out(JSON.stringify({ run: outcome.manifest.id, dir: outcome.store.dir, previous: previous ?? null, changed, newFailures, findings: outcome.findings }));
      return changed > 0 || newFailures > 0 || outcome.findings ? 1 : 0;
    }));
};
