import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { ensureHost } from '../doctor/probe.js';
import { listWorkloads } from '../image/image.js';
import type { AccelRequest } from '../vm/accel.js';
import { cellOutDir, runBootCell } from '../experiment/cell.js';
import { formatFigures, formatSamples } from '../measure/format.js';
import { collectorNames, type CollectorName } from '../measure/samples.js';
import type { GuestPlan, WorkloadRun } from '../image/plan.js';
import { action, type Registrar } from './action.js';
import { createProgress, elapsed } from './progress.js';
import { describeProgress } from './build.js';
import { splitList } from '../core/list.js';

export const DEFAULT_FUNCTIONS = ['__get_user_pages', '__get_user_pages_remote', 'handle_userfault'];

export function parseSizes(text: string): number[] {
  const sizes = splitList(text).map(Number);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new InputError(`--pages: expected page counts like 64,128, found "${text}"`);
  return [...new Set(sizes)];
}

export function parseWorkloads(text: string, known: string[], sizes: number[]): WorkloadRun[] {
  return splitList(text).map((item) => {
    const [workload, ...args] = item.split(/\s+/);
    if (!workload || !known.includes(workload)) throw new InputError(`unknown workload "${workload ?? ''}"`, `known workloads: ${known.join(', ')} (images/workloads/<name>.c); options go after the name: --workload "uffd-populate --write"`);
    return { workload, args, sizes };
  });
}

export function parseAccel(text: string): AccelRequest {
  if (!['auto', 'kvm', 'tcg'].includes(text)) throw new InputError(`--accel: expected auto, kvm or tcg, found "${text}"`);
  return text as AccelRequest;
}

export function parseReps(text: string): number {
  const reps = Number(text);
  if (!Number.isInteger(reps) || reps < 1) throw new InputError(`--reps: expected a positive whole number, found "${text}"`);
  return reps;
}

export function parseCollectors(text: string): CollectorName[] {
  const names = splitList(text);
  for (const n of names) if (!(collectorNames as readonly string[]).includes(n)) throw new InputError(`--collect: unknown collector "${n}"`, `known collectors: ${collectorNames.join(', ')}`);
  return names as CollectorName[];
}

export const registerBoot: Registrar = (program: Command) => {
  program
    .command('boot')
    .description('boot a kernel variant with the guest image under QEMU, run workloads, print samples and per-page figures')
    .requiredOption('-k, --kernel <name>', 'kernel recipe from kernels/')
    .option('-V, --variant <name>', 'variant from patches/', 'baseline')
    .option('-w, --workload <list>', 'workloads, comma-separated, each with its options: "uffd-populate,uffd-populate --write"', 'uffd-populate')
    .option('-p, --pages <sizes>', 'sizes in pages, comma-separated (two or more for a per-page figure)', '64,128')
    .option('-r, --reps <n>', 'repetitions of every workload and size', '1')
    .option('-c, --collect <list>', `collectors: ${collectorNames.join(', ')}`, 'ftrace,kprobe')
    .option('-f, --functions <list>', 'kernel functions to count', DEFAULT_FUNCTIONS.join(','))
    .option('-e, --events <list>', 'tracepoints (group/name) to count besides the workloads\' own, comma-separated')
    .option('--accel <accel>', 'auto, kvm or tcg', 'auto')
    .option('--memory <MiB>', 'guest memory', '1024')
    .option('--watchdog <seconds>', 'hung when the result channel is silent this long', '60')
    .option('--json', 'print {status, reason, accel, samples, figures, ...} on stdout')
    .addHelpText('after', `
Examples:
  kexp boot --kernel 6.12 --variant continue
  kexp boot --kernel 6.1 --variant early-break --workload "uffd-populate --write" --pages 64,128,256 --json

The kernel console goes to console.log and the agent's samples to results.jsonl in the boot
folder that is printed at the end. Exit code 1 when a sample failed or the VM crashed or hung.`)
    .action(action('boot', async (ctx, options: Record<string, string>) => {
      await ensureHost(ctx.root, { onInstall: (pkgs) => ctx.err(`installing missing Debian packages: ${pkgs.join(' ')}`) });
      const accelRequest = parseAccel(options.accel!);
      const sizes = parseSizes(options.pages!);
      const reps = parseReps(options.reps!);
      const plan: GuestPlan = {
        runs: parseWorkloads(options.workload!, listWorkloads(ctx.root), sizes),
        repetitions: reps,
        collectors: parseCollectors(options.collect!),
        functions: splitList(options.functions),
      };
      const events = splitList(options.events);
      if (events.length > 0) plan.events = events;
      const progress = createProgress(true);
      const started = Date.now();
      const total = plan.runs.reduce((n, r) => n + r.sizes.length, 0) * reps;
      let done = 0;
      const what = `${options.kernel}/${options.variant}`;
      const cell = await runBootCell(
        { kernel: options.kernel!, variant: options.variant!, plan, accel: accelRequest, memoryMiB: Number(options.memory), watchdogSeconds: Number(options.watchdog) },
        {
          root: ctx.root,
          layout: ctx.layout,
          store: ctx.store,
          logger: ctx.logger,
          signal: ctx.signal,
          outDir: cellOutDir(ctx.layout.logs, options.kernel!, options.variant!),
          onBuildProgress: (p) => progress.update(describeProgress(p, started)),
          onStage: (stage) => progress.update(`${what}: ${stage} [${elapsed(started)}]`),
          onMessage: (m) => {
            if (m.type === 'sample') done++;
            progress.update(`${what}: ${done}/${total} samples [${elapsed(started)}]`);
          },
        },
      );
      const { outcome, figures, accel: choice, kernel, image } = cell;
      const findings = outcome.status !== 'ok' || outcome.samples.some((s) => s.status === 'failed' || s.status === 'crashed' || s.status === 'hung');
      const summary = `${options.kernel}/${options.variant}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''} in ${(outcome.durationMs / 1000).toFixed(1)} s under ${choice.accel}`;
      if (findings) progress.fail(summary);
      else progress.succeed(summary);
      if (ctx.json) {
        ctx.out(JSON.stringify({
          kernel: options.kernel,
          variant: options.variant,
          status: outcome.status,
          reason: outcome.reason ?? null,
          excerpt: outcome.excerpt ?? null,
          accel: choice.accel,
          accelReason: choice.reason,
          kernelKey: kernel.key,
          imageKey: image.key,
          seconds: outcome.durationMs / 1000,
          guestKernel: outcome.hello?.kernel ?? null,
          traceable: outcome.hello?.traceable ?? null,
          warnings: outcome.warnings.map((w) => ({ title: w.title, excerpt: w.excerpt })),
          agentErrors: outcome.agentErrors,
          notes: cell.notes,
          samples: outcome.samples,
          figures,
          consoleLog: outcome.consoleLog,
          resultLog: outcome.resultLog,
        }));
      } else {
        ctx.out(`accelerator: ${choice.reason}`);
        if (outcome.excerpt && outcome.status !== 'ok') ctx.out(`\n${outcome.status}: ${outcome.reason}\n${outcome.excerpt.map((l) => `  | ${l}`).join('\n')}`);
        for (const w of outcome.warnings) ctx.out(`\nkernel warning: ${w.title}\n${w.excerpt.slice(0, 12).map((l) => `  | ${l}`).join('\n')}`);
        for (const e of outcome.agentErrors) ctx.out(`agent: ${e}`);
        for (const n of cell.notes) ctx.out(`note: ${n}`);
        ctx.out(`\nsamples:\n${formatSamples(outcome.samples, cell.targets)}`);
        ctx.out(`\nper-page figures (calls = fixed + per_page x pages):\n${formatFigures(figures)}`);
        ctx.out(`\nconsole: ${outcome.consoleLog}\nresults: ${outcome.resultLog}`);
      }
      return findings ? 1 : 0;
    }));
};
