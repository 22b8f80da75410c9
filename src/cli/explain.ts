import type { Command } from 'commander';
import { ensureHost } from '../doctor/probe.js';
import { loadCatalog, type Catalog } from '../config/catalog.js';
import { loadRecipe } from '../config/recipe.js';
import { DEFAULT_MEMORY_MIB, DEPTH, REPETITIONS, maxPagesFor } from '../config/limits.js';
import type { GuestPlan } from '../image/plan.js';
import type { AccelRequest } from '../vm/accel.js';
import { cellOutDir, runBootCell, type CellResult } from '../experiment/cell.js';
import { workloadLabel } from '../measure/samples.js';
import { diffBuckets, explainFunction, type FunctionExplanation } from '../explain/buckets.js';
import { formatChanges, formatExplanation } from '../explain/format.js';
import { action, type Registrar } from './action.js';
import { createProgress, elapsed } from './progress.js';
import { describeProgress } from './build.js';
import { DEFAULT_FUNCTIONS } from './boot.js';
import {
  addOwnKernelOptions,
  checkExternalFlags,
  importExternal,
  selectKernel,
  withExternalKernel,
  type ExternalChoice,
  type OwnKernelOptions,
} from './own-kernel.js';
import { checkPlanFits, parseAccel, parseDepth, parseFunctionNames, parseKernels, parsePages, parseReps, parseVariants, parseWorkloads } from './options.js';

export interface VariantExplanation {
  variant: string;
  status: string;
  reason: string | null;
  /** Where each probed function's parameters were read, file:line of the built source. */
  definitions: Record<string, string>;
  notes: string[];
  explanations: FunctionExplanation[];
}

/** Per workload and function, the buckets of one booted cell. */
export function explainCell(cell: CellResult, functions: string[], depth: number): FunctionExplanation[] {
  const labels = [...new Set(cell.outcome.samples.map((s) => workloadLabel(s.workload, s.args)))];
  return labels.flatMap((label) => {
    const samples = cell.outcome.samples.filter((s) => workloadLabel(s.workload, s.args) === label);
    return functions.filter((fn) => cell.explained?.[fn]).map((fn) => explainFunction(label, fn, samples, depth));
  });
}

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
  const strict = flags.function !== undefined;
  const functions = strict ? parseFunctionNames('--function', flags.function) : DEFAULT_FUNCTIONS;
  const plan: GuestPlan = {
    runs: parseWorkloads(flags.workload, catalog, sizes),
    repetitions: parseReps(flags.reps),
    // kprobe counts the totals the buckets must add up to, in the same window
    collectors: ['kprobe'],
    functions,
  };
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
    .option('-r, --reps <n>', `repetitions of every workload and size (${REPETITIONS.min} to ${REPETITIONS.max})`, '1')
    .option('-f, --function <list>', `functions to explain (default: ${DEFAULT_FUNCTIONS.join(', ')}, those defined in this kernel)`)
    .option('--depth <frames>', `caller frames that key a bucket (${DEPTH.min} to ${DEPTH.max})`, '3')
    .option('--accel <accel>', 'auto, kvm or tcg', 'auto')
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
        await ensureHost(ctx.root, { onInstall: (pkgs) => ctx.err(`installing missing Debian packages: ${pkgs.join(' ')}`) });
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
              root: ctx.root,
              layout: ctx.layout,
              store: ctx.store,
              logger: ctx.logger,
              signal: ctx.signal,
              outDir: cellOutDir(ctx.layout.logs, kernel, variant),
              ...(externalKernel ? { kernel: externalKernel } : {}),
              onBuildProgress: (p) => progress.update(describeProgress(p, started)),
              onStage: (stage) => progress.update(`${what}: ${stage} [${elapsed(started)}]`),
              onMessage: (m) => {
                if (m.type === 'sample') progress.update(`${what}: sample ${m.workload} ${m.pages} pages [${elapsed(started)}]`);
              },
            },
          );
          const explanations = explainCell(cell, functions, depth);
          const o = cell.outcome;
          if (o.status !== 'ok' || o.samples.some((s) => s.status !== 'ok' && s.status !== 'skipped') || explanations.some((e) => !e.adds_up)) findings = true;
          results.push({ variant, status: o.status, reason: o.reason ?? null, definitions: cell.explained ?? {}, notes: cell.notes, explanations });
        }
        const summary = `explained ${kernel}/${variants.join(',')} in ${elapsed(started)}`;
        if (findings) progress.fail(`${summary}, with problems`);
        else progress.succeed(summary);

        const base = results[0]!;
        const changes = results.slice(1).flatMap((r) =>
          r.explanations.flatMap((after) => {
            const before = base.explanations.find((e) => e.workload === after.workload && e.function === after.function);
            return before ? [{ workload: after.workload, function: after.function, from: base.variant, to: r.variant, before, after }] : [];
          }),
        );
        if (ctx.json) {
          ctx.out(
            JSON.stringify({
              kernel: kernel,
              depth,
              variants: results,
              changes: changes.map((c) => ({
                workload: c.workload,
                function: c.function,
                from: c.from,
                to: c.to,
                total: { before: c.before.total.per_page, after: c.after.total.per_page },
                buckets: diffBuckets(c.before, c.after),
              })),
            }),
          );
        } else {
          for (const r of results) {
            ctx.out(`\n${kernel}/${r.variant}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
            for (const [fn, where] of Object.entries(r.definitions)) ctx.out(`  ${fn}: parameters from ${where}`);
            for (const n of r.notes) ctx.out(`  note: ${n}`);
            for (const e of r.explanations) ctx.out(`\n${formatExplanation(e)}`);
          }
          if (changes.length > 0) {
            ctx.out('\nwhat changed:');
            for (const c of changes) ctx.out(formatChanges(c.before, c.after, [c.from, c.to]).join('\n'));
          }
        }
        return findings ? 1 : 0;
      }),
    );
};
