import type { Command } from 'commander';
import { loadCatalog, type Catalog } from '../config/catalog.js';
import { loadRecipe } from '../config/recipe.js';
import { DEFAULT_MEMORY_MIB, DEFAULT_WATCHDOG_SECONDS, MEMORY_MIB, WATCHDOG_SECONDS, maxPagesFor } from '../config/limits.js';
import type { AccelRequest } from '../vm/accel.js';
import { cellOutDir, runBootCell, type CellResult } from '../experiment/cell.js';
import { formatFigures, formatSamples, formatTests } from '../measure/format.js';
import { collectorNames, isFinding } from '../records/index.js';
import { commandRun, type GuestPlan } from '../image/plan.js';
import { preflightPlan } from '../experiment/preflight.js';
import { checkOverlay } from '../image/layer.js';
import { action, type Registrar } from './action.js';
import { ensureHostReady, workspace } from './context.js';
import { createProgress, describeProgress, elapsed } from './progress.js';
import { InputError } from '../core/errors.js';
import type { BootJson } from './json-output.js';
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
  parseCollectors,
  parseEventNames,
  parseFunctionNames,
  parseKernels,
  parseKselftests,
  parseMemory,
  parsePages,
  parseReps,
  parseVariants,
  parseWatchdog,
  parseWorkloads,
  repeatable,
  repsOption,
} from './options.js';

/** The flags of kexp boot as commander hands them over (text; defaults filled in). */
export interface BootFlags {
  kernel: string;
  variant: string;
  /** Default uffd-populate, unless a program (after --) or a kselftest is given. */
  workload?: string;
  /** TARGET:TEST[ ARGS], repeatable. */
  kselftest?: string[];
  overlay?: string;
  pages: string;
  reps: string;
  collect: string;
  functions: string;
  events?: string;
  accel: string;
  memory: string;
  watchdog: string;
}

export interface BootChoice {
  kernel: string;
  variant: string;
  plan: GuestPlan;
  accel: AccelRequest;
  memoryMiB: number;
  watchdogSeconds: number;
  overlay?: string;
}

/** Every flag of kexp boot, checked against the project before anything is built (pure given the catalog). */
export function checkBootOptions(flags: BootFlags, catalog: Catalog, command: string[] = []): BootChoice {
  const [kernel] = parseKernels(flags.kernel, catalog, { single: true });
  const [variant] = parseVariants(flags.variant, catalog, [kernel!], { single: true });
  const memoryMiB = parseMemory(flags.memory);
  const sizes = parsePages(flags.pages, { memoryMiB, memoryFlag: '--memory' });
  // A program after -- and each --kselftest run as they are; kexp's workloads only when asked for then.
  const programs = [...(command.length > 0 ? [commandRun(command, sizes)] : []), ...parseKselftests(flags.kselftest ?? [], sizes)];
  const plan: GuestPlan = {
    runs: [...(flags.workload !== undefined || programs.length === 0 ? parseWorkloads(flags.workload ?? 'uffd-populate', catalog, sizes) : []), ...programs],
    repetitions: parseReps(flags.reps),
    collectors: parseCollectors(flags.collect),
    functions: parseFunctionNames('--functions', flags.functions),
  };
  if (flags.events !== undefined) plan.events = parseEventNames('--events', flags.events);
  const choice = {
    kernel: kernel!,
    variant: variant!,
    plan,
    accel: parseAccel(flags.accel),
    memoryMiB,
    watchdogSeconds: parseWatchdog(flags.watchdog),
    ...(flags.overlay !== undefined ? { overlay: checkOverlay(flags.overlay) } : {}),
  };
  checkPlanFits(plan, 'kexp boot');
  return choice;
}

/** What kexp boot --json prints (schemas/boot.v1.schema.json). */
export function bootJson(choice: Pick<BootChoice, 'kernel' | 'variant'>, cell: CellResult): BootJson {
  const { accel } = cell;
  return {
    kernel: choice.kernel,
    variant: choice.variant,
    status: cell.outcome.status,
    reason: cell.outcome.reason ?? null,
    excerpt: cell.outcome.excerpt ?? null,
    accel: accel.accel,
    accelReason: accel.reason,
    kernelKey: cell.kernel.key,
    imageKey: cell.image.key,
    seconds: cell.outcome.durationMs / 1000,
    guestKernel: cell.outcome.hello?.kernel ?? null,
    traceable: cell.outcome.hello?.traceable ?? null,
    warnings: cell.outcome.warnings.map((w) => ({ title: w.title, excerpt: w.excerpt })),
    agentErrors: cell.outcome.agentErrors,
    notes: cell.notes,
    ...(cell.programs
      ? {
          kselftests: cell.programs.kselftests.map((k) => ({
            label: k.label,
            dir: k.dir,
            program: k.program,
            key: k.key,
            cached: k.cached,
            seconds: k.seconds,
          })),
          layerKey: cell.programs.layer?.key ?? null,
        }
      : {}),
    samples: cell.outcome.samples,
    figures: cell.figures,
    consoleLog: cell.outcome.consoleLog,
    resultLog: cell.outcome.resultLog,
  };
}

export const registerBoot: Registrar = (program: Command) => {
  const command = program
    .command('boot')
    .description('boot a kernel variant with the guest image under QEMU, run workloads, print samples and per-page figures')
    .option('-k, --kernel <name>', 'kernel recipe from kernels/')
    .option('-V, --variant <name>', 'variant from patches/ (default: baseline, or the --patch); NAME=PATH is a patch')
    .option(
      '--bzimage <file>',
      'boot a kernel built elsewhere (arch/x86/boot/bzImage), checked first against what kexp needs, from its embedded config or --config',
    )
    .argument('[command...]', 'a program to run as the workload, after --: kexp boot --kernel 6.12 -- /usr/bin/prog --size {n}M ({n}: each size of --pages)')
    .option(
      '-w, --workload <list>',
      'workloads, comma-separated, each with its options: "uffd-populate,uffd-populate --write" (default: uffd-populate, unless a program or --kselftest is given)',
    )
    .option(
      '--kselftest <spec>',
      "a kernel selftest built from this kernel's own tree and variant, TARGET:TEST[ ARGS] ({n}: each size of --pages); repeatable",
      repeatable,
    )
    .option('--overlay <dir|tar>', 'files put into the guest image (DIR/usr/bin/x lands at /usr/bin/x); dynamic executables bring their libraries')
    .option(
      '-p, --pages <sizes>',
      `sizes in pages, comma-separated (two or more for a per-page figure), each at most half the guest memory (${maxPagesFor(DEFAULT_MEMORY_MIB)} at ${DEFAULT_MEMORY_MIB} MiB)`,
      '64,128',
    )
    .addOption(repsOption())
    .option('-c, --collect <list>', `collectors: ${collectorNames.join(', ')}`, 'ftrace,kprobe')
    .option('-f, --functions <list>', 'kernel functions to count (C identifiers), comma-separated', DEFAULT_FUNCTIONS.join(','))
    .option('-e, --events <list>', "tracepoints (group/name) to count besides the workloads' own, comma-separated")
    .addOption(accelOption())
    .option('--memory <MiB>', `guest memory (${MEMORY_MIB.min} to ${MEMORY_MIB.max})`, String(DEFAULT_MEMORY_MIB))
    .option(
      '--watchdog <seconds>',
      `hung when the result channel is silent this long (${WATCHDOG_SECONDS.min} to ${WATCHDOG_SECONDS.max})`,
      String(DEFAULT_WATCHDOG_SECONDS),
    )
    .option('--json', 'print {status, reason, accel, samples, figures, ...} on stdout');
  addOwnKernelOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  kexp boot --kernel 6.12 --variant continue
  kexp boot --kernel 6.1 --variant early-break --workload "uffd-populate --write" --pages 64,128,256 --json
  kexp boot --kernel 6.12 --kselftest mm:madv_populate --kselftest mm:uffd-unit-tests
  kexp boot --kernel 6.12 --variant early-break --pages 1,2 --kselftest "kvm:demand_paging_test -u MISSING -b {n}M"
  kexp boot --kernel 6.12 --overlay ./rootfs -- /usr/bin/my-test --mib {n}
  kexp boot --tree ~/linux --workload async-pf        your tree as it is on disk
  kexp boot --kernel 6.12 --patch fix.patch           6.12 with your patch
  kexp boot --bzimage ~/linux/arch/x86/boot/bzImage --config ~/linux/.config

The kernel console goes to console.log and the agent's result channel to channel.txt in the boot
folder that is printed at the end. Exit code 1 when a sample failed or the VM crashed or hung.`,
    )
    .action(
      action('boot', async (ctx, flags: BootFlags & OwnKernelOptions & { bzimage?: string }, command) => {
        let external: ExternalChoice | undefined;
        let checked: BootChoice;
        if (flags.bzimage !== undefined) {
          external = checkExternalFlags(ctx, flags, 'boot');
          checked = checkBootOptions(
            { ...flags, kernel: external.name, variant: 'bzimage' },
            withExternalKernel(loadCatalog(ctx.root), external.name),
            command,
          );
          if (flags.kselftest?.length)
            throw new InputError(
              "--kselftest with --bzimage: a kselftest is built from the kernel's own tree",
              'boot your tree with --tree DIR instead, or leave --kselftest out',
            );
        } else {
          const selected = selectKernel(ctx, flags, 'single');
          checked = checkBootOptions({ ...flags, kernel: selected.kernel, variant: selected.variant }, loadCatalog(ctx.root), command);
          loadRecipe(ctx.root, checked.kernel);
        }
        await ensureHostReady(ctx);
        const externalKernel = external ? await importExternal(ctx, external) : undefined;
        if (!externalKernel) await preflightPlan(ctx.root, ctx.layout, [checked.kernel], checked.plan, ctx.signal);
        const { plan, accel: accelRequest } = checked;
        const reps = plan.repetitions;
        const progress = createProgress(true);
        const started = Date.now();
        const total = plan.runs.reduce((n, r) => n + r.sizes.length, 0) * reps;
        let done = 0;
        const what = `${checked.kernel}/${checked.variant}`;
        const cell = await runBootCell(
          {
            kernel: checked.kernel,
            variant: checked.variant,
            plan,
            accel: accelRequest,
            memoryMiB: checked.memoryMiB,
            watchdogSeconds: checked.watchdogSeconds,
            ...(checked.overlay ? { overlay: checked.overlay } : {}),
          },
          {
            ...workspace(ctx),
            outDir: cellOutDir(ctx.layout.logs, checked.kernel, checked.variant),
            ...(externalKernel ? { kernel: externalKernel } : {}),
            onBuildProgress: (p) => progress.update(describeProgress(p, started)),
            onStage: (stage) => progress.update(`${what}: ${stage} [${elapsed(started)}]`),
            onMessage: (m) => {
              if (m.type === 'sample') done++;
              progress.update(`${what}: ${done}/${total} samples [${elapsed(started)}]`);
            },
          },
        );
        const { outcome, figures, accel: choice } = cell;
        const findings = isFinding(outcome);
        const summary = `${checked.kernel}/${checked.variant}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''} in ${(outcome.durationMs / 1000).toFixed(1)} s under ${choice.accel}`;
        if (findings) progress.fail(summary);
        else progress.succeed(summary);
        if (ctx.json) {
          ctx.out(JSON.stringify(bootJson(checked, cell)));
        } else {
          ctx.out(`accelerator: ${choice.reason}`);
          if (outcome.excerpt && outcome.status !== 'ok')
            ctx.out(`\n${outcome.status}: ${outcome.reason}\n${outcome.excerpt.map((l) => `  | ${l}`).join('\n')}`);
          for (const w of outcome.warnings)
            ctx.out(
              `\nkernel warning: ${w.title}\n${w.excerpt
                .slice(0, 12)
                .map((l) => `  | ${l}`)
                .join('\n')}`,
            );
          for (const e of outcome.agentErrors) ctx.out(`agent: ${e}`);
          for (const n of cell.notes) ctx.out(`note: ${n}`);
          ctx.out(`\nsamples:\n${formatSamples(outcome.samples, cell.targets)}`);
          const tests = formatTests(outcome.samples);
          if (tests) ctx.out(`\ntests:\n${tests}`);
          ctx.out(`\nper-page figures (calls = fixed + per_page x pages):\n${formatFigures(figures)}`);
          ctx.out(`\nconsole: ${outcome.consoleLog}\nresults: ${outcome.resultLog}`);
        }
        return findings ? 1 : 0;
      }),
    );
};
