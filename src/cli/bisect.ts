import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { addOwnKernelOptions, selectKernel, type OwnKernelOptions } from './own-kernel.js';
import { InputError } from '../core/errors.js';
import { loadCatalog, type Catalog } from '../config/catalog.js';
import { loadRecipe } from '../config/recipe.js';
import { DEFAULT_MEMORY_MIB } from '../config/limits.js';
import { resultsRoot } from '../results/store.js';
import { loadBisectRequest, runBisect, type BisectRequest } from '../bisect/run.js';
import { table } from '../measure/format.js';
import {
  accelOption,
  checkPlanFits,
  checkPredicateCounted,
  parseAccel,
  parseBisectPredicate,
  parseBisectRun,
  parseCollectors,
  parseFunctionNames,
  parseKernels,
  parsePages,
} from './options.js';
import { action, type Registrar } from './action.js';
import { ensureHostReady, workspace } from './context.js';
import { createProgress, elapsed } from './progress.js';

export interface BisectOptions extends OwnKernelOptions {
  kernelGit?: string;
  good?: string;
  bad?: string;
  series?: string;
  kernel?: string;
  workload: string;
  /** TARGET:TEST[ ARGS]: a kernel selftest, built from each step's tree, instead of --workload. */
  kselftest?: string;
  pages: string;
  predicate?: string;
  functions: string;
  collect: string;
  accel: string;
  resume?: string;
  results?: string;
}

const DEFAULT_BISECT_KERNEL = '6.1';

/**
 * Every flag of a new bisection, checked before anything is built (pure given the catalog): the
 * predicate, the source (a git range or a series), the kernel, what is measured and how.
 */
export function checkBisectOptions(options: BisectOptions, catalog: Catalog): BisectRequest {
  const predicate = parseBisectPredicate(options.predicate);
  const git = options.kernelGit !== undefined;
  if (git === (options.series !== undefined)) throw new InputError('give either --kernel-git DIR with --good and --bad, or --series DIR');
  if (git && (!options.good || !options.bad)) throw new InputError('--kernel-git needs --good REV and --bad REV');
  const [kernel] = parseKernels(options.kernel ?? DEFAULT_BISECT_KERNEL, catalog, { single: true });
  const accel = parseAccel(options.accel);
  // a bisection boots with the default guest memory
  const sizes = parsePages(options.pages, { memoryMiB: DEFAULT_MEMORY_MIB });
  const run = parseBisectRun(options, catalog, sizes);
  const functions = parseFunctionNames('--functions', options.functions);
  checkPredicateCounted(predicate, functions);
  const request: BisectRequest = {
    source: git ? { mode: 'git', repo: options.kernelGit!, good: options.good!, bad: options.bad! } : { mode: 'series', dir: options.series! },
    kernel: kernel!,
    plan: { runs: [run], repetitions: 1, collectors: parseCollectors(options.collect), functions },
    predicate: options.predicate!,
    accel,
  };
  checkPlanFits(request.plan, 'kexp bisect');
  return request;
}

export const registerBisect: Registrar = (program: Command) => {
  const command = program
    .command('bisect')
    .description('find the commit, or the patch of a series, that first makes a predicate over a measured figure false')
    .option('--kernel-git <dir>', 'a local kernel git tree to bisect (with --good and --bad)')
    .option('--good <rev>', 'a revision where the predicate holds')
    .option('--bad <rev>', 'a later revision where it does not')
    .option('--series <dir>', 'bisect an ordered patch series (NNNN-*.patch) applied on --kernel instead')
    .option('-k, --kernel <name>', 'recipe for the config fragments (git) or the kernel to patch (series) (default: 6.1)')
    .option('-w, --workload <workload>', 'the one workload measured, with its options', 'async-pf')
    .option(
      '--kselftest <spec>',
      'measure a kernel selftest instead, built from each step\'s own tree: TARGET:TEST[ ARGS] (predicates: "tests.fail == 0", \'test "NAME" == pass\')',
    )
    .option('-p, --pages <sizes>', 'sizes in pages', '64,128')
    .option('--predicate <expr>', 'what good means: "__get_user_pages.per_page <= 2", "status != crashed"')
    .option('-f, --functions <list>', 'kernel functions to count', '__get_user_pages,handle_userfault')
    .option('-c, --collect <list>', 'collectors', 'ftrace,kprobe')
    .addOption(accelOption())
    .option('--resume <id>', 'continue an interrupted bisection')
    .option('--results <dir>', 'where bisection records go (default: $KEXP_RESULTS or results/)')
    .option('--json', 'print the bisection record on stdout');
  addOwnKernelOptions(command, { patch: false, config: true });
  command
    .addHelpText(
      'after',
      `
Examples:
  kexp bisect --kernel-git ~/linux --good v6.1 --bad HEAD --kernel 6.1 --workload async-pf \\
      --predicate "__get_user_pages.per_page >= 3"
  kexp bisect --series patches/early-break/6.1 --kernel 6.1 --predicate "status != crashed"
  kexp bisect --series ~/my-series --tree ~/linux --predicate "__get_user_pages.per_page <= 2"

Each step builds the revision incrementally (one working copy and build folder per repository),
boots it, measures, and judges: good, bad, or skip (does not build, or the workload cannot run).
The record is results/bisect-*/bisect.json, written after every step.
Exit code 0 when the first bad revision was found, 1 when the search was ambiguous or inconsistent.`,
    )
    .action(
      action('bisect', async (ctx, options: BisectOptions) => {
        const resultsDir = resultsRoot(ctx.root, options.results);
        let request: BisectRequest;
        if (options.resume) {
          request = loadBisectRequest(resultsDir, options.resume);
          if (request.root !== undefined) {
            if (!existsSync(request.root))
              throw new InputError(
                `bisection ${options.resume} was started on ${request.root}, which is gone`,
                'start it again with the same --tree or --config',
              );
            ctx.root = request.root;
          }
        } else {
          const own = options.tree !== undefined || options.config !== undefined || (options.configAdd?.length ?? 0) > 0;
          if (options.tree !== undefined && options.kernelGit !== undefined)
            throw new InputError(
              '--tree with --kernel-git: the git tree is what is bisected',
              'bisect a patch series on your tree with --series DIR --tree DIR, or your commits with --kernel-git DIR',
            );
          if (own) options.kernel = selectKernel(ctx, options, 'single', { defaultKernel: DEFAULT_BISECT_KERNEL }).kernel;
          request = { ...checkBisectOptions(options, loadCatalog(ctx.root)), ...(own ? { root: ctx.root } : {}) };
          loadRecipe(ctx.root, request.kernel);
        }
        await ensureHostReady(ctx);
        const progress = createProgress(true);
        const started = Date.now();
        const record = await runBisect(
          {
            ...workspace(ctx),
            resultsDir,
            onProgress: (text) => progress.update(`${text} [${elapsed(started)}]`),
          },
          request,
          options.resume,
        );
        const found = record.result?.kind === 'found';
        if (found) progress.succeed(`${record.result!.summary} (${Object.keys(record.steps).length} steps in ${elapsed(started)})`);
        else progress.fail(record.result?.summary ?? 'no result');
        if (ctx.json) {
          ctx.out(JSON.stringify(record));
        } else {
          const rows = record.revisions.map((r) => {
            const step = record.steps[String(r.index)];
            return [String(r.index), r.label.slice(0, 50), step?.verdict ?? '', step?.reason ?? ''];
          });
          ctx.out(table([['#', 'revision', 'verdict', 'why'], ...rows]));
          ctx.out(`\n${record.result?.summary ?? ''}\nrecord: ${resultsDir}/${record.id}/bisect.json`);
        }
        return found ? 0 : 1;
      }),
    );
};
