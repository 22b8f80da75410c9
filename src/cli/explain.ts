import type { Command } from 'commander';
import { loadCatalog, type Catalog } from '../config/catalog.js';
import { loadRecipe } from '../config/recipe.js';
import { DEFAULT_MEMORY_MIB, DEPTH, maxPagesFor } from '../config/limits.js';
import type { GuestPlan } from '../image/plan.js';
import type { AccelRequest } from '../vm/accel.js';
import { cellOutDir, runBootCell } from '../experiment/cell.js';
import { explainChanges, explainJson, explainText, explainVariant, type VariantExplanation } from '../explain/answer.js';
import { explainQuestion } from '../explain/question.js';
import { action, type Registrar } from './action.js';
import { ensureHostReady, workspace } from './context.js';
import { createProgress, describeProgress, elapsed } from './progress.js';
import {
  addOwnKernelOptions,
  checkExternalFlags,
  importExternal,
  selectKernel,
  withExternalKernel,
  type ExternalChoice,
  type OwnKernelOptions,
} from './own-kernel.js';
import {
  DEFAULT_FUNCTIONS,
  accelOption,
  checkPlanFits,
  parseAccel,
  parseDepth,
  parseFunctionNames,
  parseKernels,
  parsePages,
  parseReps,
  parseVariants,
  parseWorkloads,
  repsOption,
} from './options.js';

/** The flags of kexp explain as commander hands them over. */
export interface ExplainFlags {
  kernel: string;
  variant: string;
  workload: string;
  pages: string;
  reps: string;
  function?: string;
  depth: string;
  accel: string;
}

export interface ExplainChoice {
  kernel: string;
  variants: string[];
  plan: GuestPlan;
  functions: string[];
  /** Functions named with --function must be probed; the defaults may be missing from a kernel. */
  strict: boolean;
  depth: number;
  accel: AccelRequest;
}

/** Every flag of kexp explain, checked before the first variant is built (pure given the catalog). */
export function checkExplainOptions(flags: ExplainFlags, catalog: Catalog): ExplainChoice {
  const [kernel] = parseKernels(flags.kernel, catalog, { single: true });
  const variants = parseVariants(flags.variant, catalog, [kernel!]);
  // explain boots with the default guest memory
  const sizes = parsePages(flags.pages, { memoryMiB: DEFAULT_MEMORY_MIB, minSizes: 2 });
  const named = flags.function !== undefined ? parseFunctionNames('--function', flags.function) : undefined;
  const { plan, functions, strict } = explainQuestion(parseWorkloads(flags.workload, catalog, sizes), parseReps(flags.reps), named, DEFAULT_FUNCTIONS);
  const choice = { kernel: kernel!, variants, plan, functions, strict, depth: parseDepth(flags.depth), accel: parseAccel(flags.accel) };
  checkPlanFits(plan, 'kexp explain');
  return choice;
}

export const registerExplain: Registrar = (program: Command) => {
  const command = program
    .command('explain')
    .description(
      'split each counted call into buckets (caller, FOLL_* flags, pages NULL, nr_pages, return value), fitted per page; with several variants, name the bucket that changed',
    )
    .option('-k, --kernel <name>', 'kernel recipe from kernels/')
    .option(
      '-V, --variant <list>',
      'variants from patches/, comma-separated; the first is what the others are compared with (default: baseline, then each --patch); NAME=PATH is a patch',
    )
    .option(
      '--bzimage <file>',
      'explain a kernel built elsewhere; --tree DIR or --kernel NAME says which source it was built from, --config FILE its .config (else the embedded one)',
    )
    .option('-w, --workload <list>', 'workloads, comma-separated, each with its options', 'async-pf')
    .option(
      '-p, --pages <sizes>',
      `sizes in pages (two or more, each at most ${maxPagesFor(DEFAULT_MEMORY_MIB)}: half the ${DEFAULT_MEMORY_MIB} MiB guest)`,
      '64,128',
    )
    .addOption(repsOption())
    .option('-f, --function <list>', `functions to explain (default: ${DEFAULT_FUNCTIONS.join(', ')}, those defined in this kernel)`)
    .option('--depth <frames>', `caller frames that key a bucket (${DEPTH.min} to ${DEPTH.max})`, '3')
    .addOption(accelOption())
    .option('--json', 'print {kernel, variants: [{variant, explanations: [{workload, function, buckets: [...]}]}], changes} on stdout');
  addOwnKernelOptions(command)
    .addHelpText(
      'after',
      `
Each function is probed with a kprobe event that fetches its arguments (a return probe where
the kernel pairs entry arguments with the return value: 6.10 and later) and hist triggers keyed
by the caller's stack and the flags, counted in the kernel. Parameter positions and FOLL_* values
come from the source the kernel was built from. The buckets of a function must add up to the
total the kprobe collector counted in the same window; the output says so loudly when not.

Examples:
  kexp explain --kernel 6.12 --variant baseline --workload async-pf --pages 64,128
  kexp explain --kernel 6.12 --variant baseline,early-break --workload async-pf,uffd-populate --function __get_user_pages
  kexp explain --kernel 6.1 --workload "uffd-populate --write" --json
  kexp explain --kernel 6.12 --patch fix.patch --function __get_user_pages    what fix.patch changed
  kexp explain --tree ~/linux --patch fix.patch
  kexp explain --bzimage ~/linux/arch/x86/boot/bzImage --tree ~/linux --config ~/linux/.config`,
    )
    .action(
      action('explain', async (ctx, flags: ExplainFlags & OwnKernelOptions & { bzimage?: string }) => {
        let external: ExternalChoice | undefined;
        let checked: ExplainChoice;
        if (flags.bzimage !== undefined) {
          external = checkExternalFlags(ctx, flags, 'explain');
          checked = checkExplainOptions({ ...flags, kernel: external.name, variant: 'bzimage' }, withExternalKernel(loadCatalog(ctx.root), external.name));
        } else {
          const selected = selectKernel(ctx, flags, 'compare');
          checked = checkExplainOptions({ ...flags, kernel: selected.kernel, variant: selected.variant }, loadCatalog(ctx.root));
          loadRecipe(ctx.root, checked.kernel);
        }
        const { kernel, variants, plan, functions, strict, depth, accel } = checked;
        await ensureHostReady(ctx);
        const externalKernel = external ? await importExternal(ctx, external) : undefined;
        const progress = createProgress(true);
        const started = Date.now();
        const results: VariantExplanation[] = [];
        let findings = false;
        for (const variant of variants) {
          const what = `${kernel}/${variant}`;
          const cell = await runBootCell(
            { kernel, variant, plan, accel, explain: { functions, strict } },
            {
              ...workspace(ctx),
              outDir: cellOutDir(ctx.layout.logs, kernel, variant),
              ...(externalKernel ? { kernel: externalKernel } : {}),
              onBuildProgress: (p) => progress.update(describeProgress(p, started)),
              onStage: (stage) => progress.update(`${what}: ${stage} [${elapsed(started)}]`),
              onMessage: (m) => {
                if (m.type === 'sample') progress.update(`${what}: sample ${m.workload} ${m.pages} pages [${elapsed(started)}]`);
              },
            },
          );
          const answer = explainVariant(variant, cell, functions, depth);
          if (answer.findings) findings = true;
          results.push(answer.explanation);
        }
        const summary = `explained ${kernel}/${variants.join(',')} in ${elapsed(started)}`;
        if (findings) progress.fail(`${summary}, with problems`);
        else progress.succeed(summary);

        const changes = explainChanges(results);
        if (ctx.json) ctx.out(JSON.stringify(explainJson(kernel, depth, results, changes)));
        else for (const line of explainText(kernel, results, changes)) ctx.out(line);
        return findings ? 1 : 0;
      }),
    );
};
