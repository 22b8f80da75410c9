import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { loadExperiment, resolveExperimentFile } from '../config/experiment.js';
import { parseOnly, planRun, type OnlyFilter } from '../experiment/plan.js';
import { chooseExecutor, executorNames } from '../experiment/executors/index.js';
import { cancelRun, IncompleteRunError, resumeRun, startRun, type RunOutcome, type RunProgress } from '../experiment/run.js';
import { listRuns, resultsRoot, RunStore } from '../results/store.js';
import { table } from '../measure/format.js';
import { action, type Registrar } from './action.js';
import { createProgress, elapsed } from './progress.js';
import { type CommandContext, ensureHostReady, workspace } from './context.js';
import { checkPlanFits, parseJobs } from './options.js';
import { preflightExperiment } from '../experiment/preflight.js';
import { isGeneratedLayer } from '../config/layers.js';
import { addOwnKernelOptions, selectKernel, type OwnKernelOptions } from './own-kernel.js';

export function describeRunProgress(p: RunProgress, started: number): string {
  const builds = `builds ${p.builds.done}/${p.builds.total}${p.builds.current ? ` (${p.builds.current}${p.builds.detail ? `: ${p.builds.detail}` : ''})` : ''}`;
  const left = p.cells.total - p.cells.done - p.cells.running;
  const cells = `runs ${p.cells.done}/${p.cells.total} done, ${p.cells.running} running, ${left} left${p.cells.failed > 0 ? `, ${p.cells.failed} with failures` : ''}`;
  const eta =
    p.etaSeconds !== undefined && p.phase === 'running'
      ? ` · about ${p.etaSeconds >= 60 ? `${Math.floor(p.etaSeconds / 60)}m${String(p.etaSeconds % 60).padStart(2, '0')}s` : `${p.etaSeconds}s`} left`
      : '';
  return `${p.phase}: ${builds} · ${cells}${eta} [${elapsed(started)}]`;
}

export interface RunCommandOptions extends OwnKernelOptions {
  only?: string;
  jobs?: string;
  resume?: string;
  results?: string;
  executor?: string;
  redis?: string;
  store?: string;
}

/** What a run starts from, every part checked: the experiment file (or the run to resume), the filter, the jobs. */
export interface CheckedRun {
  jobs?: number;
  /** Absent when resuming. */
  start?: { file: string; only: OnlyFilter; root: string };
}

/**
 * Everything `kexp run` and `kexp nightly` are given, checked before the host is checked or
 * anything is built: the flags, the experiment file against the project (kernels, variants and
 * their series, workloads and their options, sizes against memory), the --only filter against the
 * experiment, the cell ids, the guest plan's length, the executor.
 */
export function checkRunOptions(root: string, experimentArg: string | undefined, options: RunCommandOptions, layerHome?: string): CheckedRun {
  const jobs = options.jobs !== undefined ? parseJobs(options.jobs) : undefined;
  const withJobs = jobs !== undefined ? { jobs } : {};
  if (options.resume) {
    if (experimentArg)
      throw new InputError(
        `--resume ${options.resume}: a resumed run keeps the experiment it recorded; "${experimentArg}" would be ignored`,
        'leave the experiment out, or start a new run without --resume',
      );
    if (options.only !== undefined)
      throw new InputError(
        `--resume ${options.resume}: a resumed run keeps the --only filter it started with; "--only ${options.only}" would be ignored`,
        'leave --only out, or start a new run',
      );
    return withJobs;
  }
  const file = resolveExperimentFile(root, experimentArg);
  const only = parseOnly(options.only);
  const loaded = loadExperiment(root, file, { ...(layerHome ? { layerHome } : {}), executors: executorNames() });
  const { experiment } = loaded;
  const plan = planRun(experiment, only);
  const first = plan.cells[0];
  if (first) checkPlanFits(first.spec.plan, file);
  const executor = chooseExecutor(
    { ...(options.executor ? { executor: options.executor } : {}), ...(options.redis ? { redis: options.redis } : {}) },
    experiment,
  );
  if (!executor.runsHere && isGeneratedLayer(loaded.root)) {
    throw new InputError(
      "--kernel, --variant, --tree, --patch and --config run here (the local executor): a fleet's workers cannot see this machine's files",
      'for a fleet, put the recipe and the patches in a --root folder every worker has, and name them in an experiment',
    );
  }
  return { ...withJobs, start: { file, only, root: loaded.root } };
}

/**
 * `kexp run --kernel 6.12 --patch fix.patch` and the like: the experiment (given, or the default)
 * with the kernels and variants of the command line, written into a layer that the run then uses
 * as its root (and keeps in its record). Undefined changes nothing.
 */
function ownKernelExperiment(ctx: CommandContext, given: string | undefined, options: RunCommandOptions): string | undefined {
  const own =
    options.kernel !== undefined ||
    options.variant !== undefined ||
    options.tree !== undefined ||
    (options.patch?.length ?? 0) > 0 ||
    options.config !== undefined ||
    (options.configAdd?.length ?? 0) > 0;
  if (!own) return given;
  if (options.resume)
    throw new InputError(
      `--resume ${options.resume}: a resumed run keeps the kernels and variants it recorded`,
      'leave --kernel, --variant, --tree, --patch and --config out',
    );
  const file = resolveExperimentFile(ctx.root, given);
  const text = readFileSync(file, 'utf8');
  // Patches or a config without --kernel or --tree: on the experiment's own kernels.
  let kernel = options.kernel;
  if (kernel === undefined && options.tree === undefined) {
    const loaded = loadExperiment(ctx.root, file, { layerHome: join(ctx.layout.root, 'layers') });
    ctx.root = loaded.root;
    kernel = loaded.experiment.kernels.join(',');
  }
  const selected = selectKernel(ctx, { ...options, ...(kernel !== undefined ? { kernel } : {}) }, 'compare', { experiment: { text, variants: [] } });
  return selected.experiment ?? given;
}

/** Shared by run and nightly: run (or resume), write the reports, return the outcome. */
export async function runExperimentCommand(ctx: CommandContext, given: string | undefined, options: RunCommandOptions): Promise<RunOutcome> {
  const experimentArg = ownKernelExperiment(ctx, given, options);
  const checked = checkRunOptions(ctx.root, experimentArg, options, join(ctx.layout.root, 'layers'));
  // Kernel entries that name a tree: the run resolves its kernels in their layer.
  if (checked.start) ctx.root = checked.start.root;
  if (options.resume) RunStore.open(resultsRoot(ctx.root, options.results), options.resume);
  await ensureHostReady(ctx);
  if (checked.start) await preflightExperiment(ctx.root, ctx.layout, checked.start.file, checked.start.only, ctx.signal);
  const progress = createProgress(true);
  const started = Date.now();
  const env = {
    ...workspace(ctx),
    resultsDir: resultsRoot(ctx.root, options.results),
    ...(checked.jobs !== undefined ? { jobs: checked.jobs } : {}),
    executor: {
      ...(options.executor ? { executor: options.executor } : {}),
      ...(options.redis ? { redis: options.redis } : {}),
      ...(options.store ? { store: options.store } : {}),
    },
    onProgress: (p: RunProgress) => progress.update(describeRunProgress(p, started)),
    say: (line: string) => ctx.err(line),
  };
  let outcome: RunOutcome;
  try {
    outcome = checked.start ? await startRun(env, checked.start.file, checked.start.only) : await resumeRun(env, options.resume!);
  } catch (error) {
    progress.fail(`run stopped after ${elapsed(started)}`);
    if (!(error instanceof IncompleteRunError)) throw error;
    ctx.err(`incomplete run kept: ${error.run.dir} (kexp run --resume ${error.run.id})`);
    // Why it stopped decides the message and the exit code.
    throw error.cause;
  }
  const m = outcome.manifest;
  const done = Object.values(m.cells).filter((c) => c.state === 'done').length;
  const summary = `run ${m.id}: ${done} cells in ${elapsed(started)}${outcome.findings ? ', with failures' : ''}`;
  if (outcome.findings) progress.fail(summary);
  else progress.succeed(summary);
  return outcome;
}

export const registerRun: Registrar = (program: Command) => {
  const command = program
    .command('run')
    .description('run an experiment (default: experiments/default.json): builds, boots, samples, figures, reports')
    .argument('[experiment]', 'experiment file, or a name under experiments/')
    .option('--only <filter>', 'narrow the matrix: kernel=6.12,variant=continue (values joined with +)')
    .option('-k, --kernel <names>', "the kernels to run instead of the experiment's, comma-separated")
    .option('-V, --variant <names>', "the variants to run instead of the experiment's (baseline always first), comma-separated; NAME=PATH is a patch")
    .option('-j, --jobs <n>', 'VMs at once (default: cores + 1, fewer if memory is short)')
    .option('--resume <run>', 'finish an incomplete run without redoing what finished')
    .option(
      '--cancel <run>',
      'stop a fleet run for good: its queued jobs leave the queue, workers skip the rest (Ctrl-C on a fleet run leaves its work queued for --resume)',
    )
    .option('--results <dir>', 'where run records go (default: $KEXP_RESULTS or results/)')
    .option('--executor <name>', 'where cells run: local, or bullmq (a kexp worker fleet; default: $KEXP_EXECUTOR, the experiment\'s "executor", local)')
    .option('--redis <url>', "the fleet's Redis, redis://[:password@]host:port[/db] or rediss:// (default: $KEXP_REDIS); implies --executor bullmq")
    .option('--store <dir>', "the fleet's shared artifact store, e.g. an NFS mount (default: $KEXP_STORE)")
    .option('--json', 'print {run, dir, state, findings} on stdout');
  addOwnKernelOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  kexp run                                    the default experiment
  kexp run experiments/default.json --only kernel=6.12,variant=baseline+continue
  kexp run --resume default-20261126-101500   after an interruption
  kexp run --redis redis://lab1:6379 --store /srv/kexp-store   on a fleet of kexp workers
  kexp run --cancel default-20261126-101500 --redis redis://lab1:6379    stop a fleet run
  kexp run --kernel 6.12 --patch fix.patch    6.12 with and without fix.patch, side by side
  kexp run --tree ~/linux --patch fix.patch   your tree with and without it

Each run leaves results/<run>/: experiment.json, manifest.json (provenance), cells/<cell>/
(console.log, channel.txt, cell.json), samples.jsonl and report.{txt,md,csv,json,html}.
Exit code 1 when a sample failed, crashed or hung.`,
    )
    .action(
      action('run', async (ctx, options: RunCommandOptions & { cancel?: string }, args) => {
        if (options.cancel) {
          if (args[0] || options.resume || options.only !== undefined || options.jobs !== undefined)
            throw new InputError(
              '--cancel takes only the run to cancel (no experiment, --resume, --only or --jobs)',
              'kexp run --cancel RUN [--redis URL] [--results DIR]',
            );
          const env = {
            ...workspace(ctx),
            resultsDir: resultsRoot(ctx.root, options.results),
            executor: { ...(options.redis ? { redis: options.redis } : {}) },
          };
          const c = await cancelRun(env, options.cancel);
          if (ctx.json)
            ctx.out(
              JSON.stringify({ run: c.manifest.id, state: c.manifest.state, cancelledAt: c.manifest.cancelledAt, removed: c.removed, running: c.running }),
            );
          else
            ctx.out(
              `run ${c.manifest.id} cancelled: ${c.removed} queued job(s) removed${c.running > 0 ? `, ${c.running} running job(s) finish unread` : ''}; workers skip the rest`,
            );
          return 0;
        }
        const outcome = await runExperimentCommand(ctx, args[0], options);
        if (ctx.json) ctx.out(JSON.stringify({ run: outcome.manifest.id, dir: outcome.store.dir, state: outcome.manifest.state, findings: outcome.findings }));
        else ctx.out(`${outcome.store.dir}/report.txt\n\n${readReport(outcome.store.dir)}`);
        return outcome.findings ? 1 : 0;
      }),
    );

  program
    .command('runs')
    .description('list the run records')
    .option('--results <dir>', 'where run records are (default: $KEXP_RESULTS or results/)')
    .option('--json', 'print the list as JSON')
    .action(
      action('runs', async (ctx, options: { results?: string }) => {
        const runs = listRuns(resultsRoot(ctx.root, options.results));
        for (const run of runs) if (run.problem) ctx.err(`kexp: warning: ${run.problem}`);
        if (ctx.json) {
          ctx.out(JSON.stringify(runs, null, 2));
        } else if (runs.length === 0) {
          ctx.out('no runs yet (kexp run starts one)');
        } else {
          ctx.out(
            table([
              ['run', 'experiment', 'state', 'cells', 'started'],
              ...runs.map((r) => [r.id, r.experiment, r.state, `${r.cellsDone}/${r.cellsPlanned}`, r.startedAt]),
            ]),
          );
        }
        return 0;
      }),
    );
};

function readReport(dir: string): string {
  return readFileSync(join(dir, 'report.txt'), 'utf8');
}
