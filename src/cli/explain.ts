import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { splitList } from '../core/list.js';
import { ensureHost } from '../doctor/probe.js';
import { listWorkloads } from '../image/image.js';
import type { GuestPlan } from '../image/plan.js';
import { cellOutDir, runBootCell, type CellResult } from '../experiment/cell.js';
import { workloadLabel } from '../measure/samples.js';
import { diffBuckets, explainFunction, type FunctionExplanation } from '../explain/buckets.js';
import { formatChanges, formatExplanation } from '../explain/format.js';
import { action, type Registrar } from './action.js';
import { createProgress, elapsed } from './progress.js';
import { describeProgress } from './build.js';
import { DEFAULT_FUNCTIONS, parseAccel, parseReps, parseSizes, parseWorkloads } from './boot.js';

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

export const registerExplain: Registrar = (program: Command) => {
  program
    .command('explain')
    .description('split each counted call into buckets (caller, FOLL_* flags, pages NULL, nr_pages, return value), fitted per page; with several variants, name the bucket that changed')
    .requiredOption('-k, --kernel <name>', 'kernel recipe from kernels/')
    .option('-V, --variant <list>', 'variants from patches/, comma-separated; the first is what the others are compared with', 'baseline')
    .option('-w, --workload <list>', 'workloads, comma-separated, each with its options', 'async-pf')
    .option('-p, --pages <sizes>', 'sizes in pages (two or more)', '64,128')
    .option('-r, --reps <n>', 'repetitions of every workload and size', '1')
    .option('-f, --function <list>', `functions to explain (default: ${DEFAULT_FUNCTIONS.join(', ')}, those defined in this kernel)`)
    .option('--depth <frames>', 'caller frames that key a bucket', '3')
    .option('--accel <accel>', 'auto, kvm or tcg', 'auto')
    .option('--json', 'print {kernel, variants: [{variant, explanations: [{workload, function, buckets: [...]}]}], changes} on stdout')
    .addHelpText('after', `
Each function is probed with a kprobe event that fetches its arguments (a return probe where
the kernel pairs entry arguments with the return value: 6.10 and later) and hist triggers keyed
by the caller's stack and the flags, counted in the kernel. Parameter positions and FOLL_* values
come from the source the kernel was built from. The buckets of a function must add up to the
total the kprobe collector counted in the same window; the output says so loudly when not.

Examples:
  kexp explain --kernel 6.12 --variant baseline --workload async-pf --pages 64,128
  kexp explain --kernel 6.12 --variant baseline,early-break --workload async-pf,uffd-populate --function __get_user_pages
  kexp explain --kernel 6.1 --workload "uffd-populate --write" --json`)
    .action(action('explain', async (ctx, options: Record<string, string>) => {
      await ensureHost(ctx.root, { onInstall: (pkgs) => ctx.err(`installing missing Debian packages: ${pkgs.join(' ')}`) });
      const accel = parseAccel(options.accel!);
      const sizes = parseSizes(options.pages!);
      if (sizes.length < 2) throw new InputError(`--pages: explain fits calls = fixed + per_page x pages, which needs two sizes or more (found ${sizes.join(',')})`);
      const reps = parseReps(options.reps!);
      const depth = Number(options.depth);
      if (!Number.isInteger(depth) || depth < 1 || depth > 8) throw new InputError(`--depth: expected 1 to 8 frames, found "${options.depth}"`);
      const variants = splitList(options.variant);
      if (variants.length === 0) throw new InputError('--variant: name at least one variant');
      const strict = options.function !== undefined;
      const functions = strict ? splitList(options.function) : DEFAULT_FUNCTIONS;
      const plan: GuestPlan = {
        runs: parseWorkloads(options.workload!, listWorkloads(ctx.root), sizes),
        repetitions: reps,
        // kprobe counts the totals the buckets must add up to, in the same window
        collectors: ['kprobe'],
        functions,
      };
      const progress = createProgress(true);
      const started = Date.now();
      const results: VariantExplanation[] = [];
      let findings = false;
      for (const variant of variants) {
        const what = `${options.kernel}/${variant}`;
        const cell = await runBootCell(
          { kernel: options.kernel!, variant, plan, accel, explain: { functions, strict } },
          {
            root: ctx.root,
            layout: ctx.layout,
            store: ctx.store,
            logger: ctx.logger,
            signal: ctx.signal,
            outDir: cellOutDir(ctx.layout.logs, options.kernel!, variant),
            onBuildProgress: (p) => progress.update(describeProgress(p, started)),
            onStage: (stage) => progress.update(`${what}: ${stage} [${elapsed(started)}]`),
            onMessage: (m) => { if (m.type === 'sample') progress.update(`${what}: sample ${m.workload} ${m.pages} pages [${elapsed(started)}]`); },
          },
        );
        const explanations = explainCell(cell, functions, depth);
        const o = cell.outcome;
        if (o.status !== 'ok' || o.samples.some((s) => s.status !== 'ok' && s.status !== 'skipped') || explanations.some((e) => !e.adds_up)) findings = true;
        results.push({ variant, status: o.status, reason: o.reason ?? null, definitions: cell.explained ?? {}, notes: cell.notes, explanations });
      }
      const summary = `explained ${options.kernel}/${variants.join(',')} in ${elapsed(started)}`;
      if (findings) progress.fail(`${summary}, with problems`);
      else progress.succeed(summary);

      const base = results[0]!;
      const changes = results.slice(1).flatMap((r) => r.explanations.flatMap((after) => {
        const before = base.explanations.find((e) => e.workload === after.workload && e.function === after.function);
        return before ? [{ workload: after.workload, function: after.function, from: base.variant, to: r.variant, before, after }] : [];
      }));
      if (ctx.json) {
        ctx.out(JSON.stringify({
          kernel: options.kernel,
          depth,
          variants: results,
          changes: changes.map((c) => ({ workload: c.workload, function: c.function, from: c.from, to: c.to, total: { before: c.before.total.per_page, after: c.after.total.per_page }, buckets: diffBuckets(c.before, c.after) })),
        }));
      } else {
        for (const r of results) {
          ctx.out(`\n${options.kernel}/${r.variant}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
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
    }));
};
