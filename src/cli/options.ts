/**
 * The parsers of every command-line value, in one place, used by every command. Each takes the
 * text the user gave and returns a typed value or throws an InputError (exit 2) that names the
 * flag, the value as given, and what is accepted. The commands call them first thing in their
 * action, before the host is checked, a package is installed, a kernel is built or a VM booted: a
 * typo costs milliseconds, not a cold kernel build. Bounds and name rules come from
 * src/config/limits.ts, which the experiment files are checked with too. The options that several
 * commands declare alike (--accel, --reps, repeatable flags) are declared here too.
 */
import { Option } from 'commander';
import { InputError } from '../core/errors.js';
import { splitList } from '../core/list.js';
import type { Catalog } from '../config/catalog.js';
import { variantMismatch } from '../config/catalog.js';
import {
  DEPTH,
  EVENT_NAME_TEXT,
  FUNCTION_NAME_TEXT,
  JOBS,
  MEMORY_MIB,
  REPETITIONS,
  WATCHDOG_SECONDS,
  WORKLOAD_MAX_PAGES,
  isEventName,
  isFunctionName,
  maxPagesFor,
  type Bounds,
} from '../config/limits.js';
import { describeWorkloadOptions, workloadArgsProblem } from '../config/workloads.js';
import { parsePredicate, type Predicate } from '../bisect/predicate.js';
import { cleanName } from '../experiment/plan.js';
import { encodePlan, kselftestRun, type GuestPlan, type WorkloadRun } from '../image/plan.js';
import { parseKselftestSpec } from '../config/kselftest.js';
import { historyFormats, type HistoryFormat } from '../report/history/render.js';
import { isRendererName, rendererNames, type RendererName } from '../report/renderer.js';
import { collectorNames, type CollectorName } from '../records/index.js';
import type { AccelRequest } from '../vm/accel.js';
import { kernelCommandLine, MAX_COMMAND_LINE } from '../vm/qemu.js';

/** `--flag: expected <accepted>, found "<value>"`, with what would fix it under it. */
export function optionError(flag: string, value: string, accepted: string, hint?: string): InputError {
  return new InputError(`${flag}: expected ${accepted}, found "${value}"`, hint);
}

/** A whole number within bounds: digits only ("1e3", "0x10", "12abc", "-1" and "" are refused). */
export function parseWholeNumber(flag: string, text: string, bounds: Bounds, unit = ''): number {
  const accepted = `a whole number${unit ? ` of ${unit}` : ''} from ${bounds.min} to ${bounds.max}`;
  const trimmed = text.trim();
  if (!/^\d{1,12}$/.test(trimmed)) throw optionError(flag, text, accepted);
  const n = Number(trimmed);
  if (n < bounds.min || n > bounds.max) throw optionError(flag, text, accepted);
  return n;
}

export function parseMemory(text: string, flag = '--memory'): number {
  return parseWholeNumber(flag, text, MEMORY_MIB, 'MiB');
}

export function parseWatchdog(text: string, flag = '--watchdog'): number {
  return parseWholeNumber(flag, text, WATCHDOG_SECONDS, 'seconds');
}

export function parseReps(text: string, flag = '--reps'): number {
  return parseWholeNumber(flag, text, REPETITIONS);
}

export function parseJobs(text: string, flag = '--jobs'): number {
  return parseWholeNumber(flag, text, JOBS);
}

export function parseDepth(text: string, flag = '--depth'): number {
  return parseWholeNumber(flag, text, DEPTH, 'frames');
}

export const accelNames = ['auto', 'kvm', 'tcg'] as const satisfies readonly AccelRequest[];

/** "a, b or c". */
function orList(names: readonly string[]): string {
  return names.join(', ').replace(/, ([^,]+)$/, ' or $1');
}

export function parseAccel(text: string, flag = '--accel'): AccelRequest {
  if (!(accelNames as readonly string[]).includes(text)) throw optionError(flag, text, orList(accelNames));
  return text as AccelRequest;
}

/** --accel as boot, explain and bisect declare it (parsed with parseAccel in the action). */
export function accelOption(): Option {
  return new Option('--accel <accel>', orList(accelNames)).default('auto');
}

/** -r, --reps as boot and explain declare it (parsed with parseReps in the action). */
export function repsOption(): Option {
  return new Option('-r, --reps <n>', `repetitions of every workload and size (${REPETITIONS.min} to ${REPETITIONS.max})`).default('1');
}

/** The kernel functions boot counts and explain explains when none are named. */
export const DEFAULT_FUNCTIONS = ['__get_user_pages', '__get_user_pages_remote', 'handle_userfault'];

/** The collector of a repeatable flag (--patch, --config-add, --kselftest): every value, in order. */
export function repeatable(value: string, all: string[] = []): string[] {
  return [...all, value];
}

/** --format of report and compare: a renderer's name. */
export function parseReportFormat(text: string, flag = '--format'): RendererName {
  if (isRendererName(text)) return text;
  throw new InputError(`${flag}: unknown report format "${text}"`, `use one of: ${rendererNames.join(', ')}`);
}

/** --format of history. */
export function parseHistoryFormat(text: string, flag = '--format'): HistoryFormat {
  if ((historyFormats as readonly string[]).includes(text)) return text as HistoryFormat;
  throw new InputError(`${flag}: unknown history format "${text}"`, `use one of: ${historyFormats.join(', ')}`);
}

/** --kselftest TARGET:TEST[ ARGS] (repeatable): each a run at every size. */
export function parseKselftests(texts: readonly string[], sizes: number[], flag = '--kselftest'): WorkloadRun[] {
  return texts.map((text) => kselftestRun(parseKselftestSpec(text, flag), sizes, flag));
}

/** --notify: a command line for /bin/sh -c; an empty one would run nothing and say nothing. */
export function parseNotify(text: string, flag = '--notify'): string {
  if (text.trim() === '') {
    throw new InputError(
      `${flag}: the command is empty`,
      'give a command line, run by /bin/sh -c with the summary on its standard input, e.g. --notify "/usr/sbin/sendmail you@example.org"',
    );
  }
  return text;
}

/** --predicate of bisect: required, and one of the forms bisect/predicate.ts reads. */
export function parseBisectPredicate(text: string | undefined, flag = '--predicate'): Predicate {
  if (!text) throw new InputError(`${flag} is required`, 'e.g. --predicate "__get_user_pages.per_page <= 2"');
  return parsePredicate(text);
}

/**
 * A figure's function must be counted: one of `functions` (a group/tracepoint is counted by the
 * workload's own events instead).
 */
export function checkPredicateCounted(predicate: Predicate, functions: string[], flag = '--predicate'): void {
  if (predicate.kind === 'figure' && !predicate.target.includes('/') && !functions.includes(predicate.target)) {
    throw new InputError(
      `${flag}: "${predicate.target}" is not counted (--functions ${functions.join(',')})`,
      `add it to --functions, or judge one of ${functions.join(', ')}`,
    );
  }
}

/** What a bisection measures: the --kselftest when given, else the --workload; exactly one. */
export function parseBisectRun(
  flags: { workload: string; kselftest?: string | undefined },
  catalog: Pick<Catalog, 'workloads' | 'workloadOptions'>,
  sizes: number[],
): WorkloadRun {
  const runs = flags.kselftest !== undefined ? parseKselftests([flags.kselftest], sizes) : parseWorkloads(flags.workload, catalog, sizes);
  const [run] = runs;
  if (runs.length !== 1 || !run)
    throw new InputError(
      `--workload: a bisection measures one workload (with its options), found "${flags.workload}"`,
      'give one, e.g. --workload "uffd-populate --write"; bisect each workload in its own run',
    );
  return run;
}

/** A comma-separated list with at least one item. */
export function parseList(flag: string, text: string | undefined, what: string): string[] {
  const items = splitList(text);
  if (items.length === 0) throw optionError(flag, text ?? '', `${what}, comma-separated`);
  return items;
}

/**
 * Sizes in pages: whole numbers from 1 to what the guest's memory holds (half of it, in 4 KiB
 * pages; never more than the workloads' own limit of 1048576), each once, at least `minSizes`.
 */
export function parsePages(text: string, options: { memoryMiB: number; minSizes?: number; flag?: string; memoryFlag?: string }): number[] {
  const flag = options.flag ?? '--pages';
  const max = maxPagesFor(options.memoryMiB);
  const accepted = `page counts from 1 to ${max}, comma-separated, e.g. 64,128`;
  const items = splitList(text);
  if (items.length === 0) throw optionError(flag, text, accepted);
  const sizes = items.map((item) => {
    if (!/^\d{1,12}$/.test(item) || Number(item) < 1) throw optionError(flag, text, accepted);
    const pages = Number(item);
    if (pages > max) {
      const guest = options.memoryFlag ? `${options.memoryFlag} ${options.memoryMiB}` : `the guest's ${options.memoryMiB}`;
      const fix =
        pages > WORKLOAD_MAX_PAGES
          ? `the workloads take at most ${WORKLOAD_MAX_PAGES} pages`
          : options.memoryFlag
            ? `raise ${options.memoryFlag} (up to ${MEMORY_MIB.max}), or use fewer pages`
            : 'use fewer pages';
      throw new InputError(
        `${flag}: ${pages} pages do not fit the guest: expected at most ${max} (half of ${guest} MiB, in 4 KiB pages), found "${text}"`,
        fix,
      );
    }
    return pages;
  });
  const unique = [...new Set(sizes)];
  const minSizes = options.minSizes ?? 1;
  if (unique.length < minSizes) {
    throw optionError(
      flag,
      text,
      `${minSizes} different sizes or more (the per-page figure is the slope of calls = fixed + per_page x pages)`,
      'e.g. --pages 64,128',
    );
  }
  return unique;
}

/** Kernel function names (C identifiers), comma-separated; with `events`, group/name tracepoints too. */
export function parseFunctionNames(flag: string, text: string | undefined, options: { events?: boolean } = {}): string[] {
  const accepted = options.events ? `${FUNCTION_NAME_TEXT} or ${EVENT_NAME_TEXT}` : FUNCTION_NAME_TEXT;
  const names = splitList(text);
  if (names.length === 0) throw optionError(flag, text ?? '', `${accepted}, comma-separated`);
  for (const name of names) {
    const ok = isFunctionName(name) || (options.events === true && isEventName(name));
    if (!ok)
      throw new InputError(
        `${flag}: "${name}" is not ${accepted}${names.length > 1 ? ` (in "${text}")` : ''}`,
        'names are comma-separated, e.g. __get_user_pages,handle_userfault',
      );
  }
  return [...new Set(names)];
}

export function parseEventNames(flag: string, text: string | undefined): string[] {
  const names = splitList(text);
  if (names.length === 0) throw optionError(flag, text ?? '', `${EVENT_NAME_TEXT}s, comma-separated`);
  for (const name of names)
    if (!isEventName(name))
      throw new InputError(`${flag}: "${name}" is not ${EVENT_NAME_TEXT}`, 'e.g. --events kvm/kvm_async_pf_ready,kvm/kvm_try_async_get_page');
  return [...new Set(names)];
}

export function parseCollectors(text: string, flag = '--collect'): CollectorName[] {
  const names = splitList(text);
  const accepted = `collectors from ${collectorNames.join(', ')}, comma-separated`;
  if (names.length === 0) throw optionError(flag, text, accepted);
  for (const name of names)
    if (!(collectorNames as readonly string[]).includes(name))
      throw new InputError(`${flag}: unknown collector "${name}"`, `known collectors: ${collectorNames.join(', ')}`);
  return [...new Set(names)] as CollectorName[];
}

/**
 * Workload specs: comma-separated, each a workload of images/workloads/ followed by its options
 * ("uffd-populate --write,async-pf"). Each option must be one the workload's usage line declares,
 * in characters the guest plan carries; a spec given twice is refused (its samples would merge).
 */
export function parseWorkloads(text: string, catalog: Pick<Catalog, 'workloads' | 'workloadOptions'>, sizes: number[], flag = '--workload'): WorkloadRun[] {
  const specs = splitList(text);
  const known = catalog.workloads;
  const hint = `known workloads: ${known.map((w) => `${w} (${describeWorkloadOptions(catalog.workloadOptions?.[w] ?? [])})`).join(', ') || '(none)'}; options go after the name: --workload "uffd-populate --write,async-pf"`;
  if (specs.length === 0) throw optionError(flag, text, 'workloads, comma-separated', hint);
  const seen = new Set<string>();
  return specs.map((spec) => {
    const [workload, ...args] = spec.split(/\s+/);
    if (!workload || !known.includes(workload)) throw new InputError(`${flag}: unknown workload "${workload ?? ''}" in "${spec}"`, hint);
    const problem = workloadArgsProblem(workload, args, catalog.workloadOptions?.[workload]);
    if (problem) throw new InputError(`${flag}: "${spec}": ${problem}`, hint);
    const label = [workload, ...args].join(' ');
    if (seen.has(label)) throw new InputError(`${flag}: "${label}" is given twice`, 'give each workload with its options once');
    seen.add(label);
    return { workload, args, sizes };
  });
}

/** Each name once, and no two that clean up to the same text (cell ids and folders are made of it). */
function checkDistinct(flag: string, names: string[], what: string): void {
  const seen = new Map<string, string>();
  for (const name of names) {
    const cleaned = cleanName(name);
    const other = seen.get(cleaned);
    if (other === name) throw new InputError(`${flag}: ${what} "${name}" is given twice`, `name each ${what} once`);
    if (other !== undefined)
      throw new InputError(
        `${flag}: ${what}s "${other}" and "${name}" both become "${cleaned}" in cell ids and folder names`,
        'rename one of them (letters, digits, _ . - are kept, the rest becomes -)',
      );
    seen.set(cleaned, name);
  }
}

/** Kernel recipes of kernels/, comma-separated; "all" when allowed. */
export function parseKernels(text: string, catalog: Pick<Catalog, 'kernels'>, options: { flag?: string; all?: boolean; single?: boolean } = {}): string[] {
  const flag = options.flag ?? '--kernel';
  const known = catalog.kernels;
  const hint = `known kernels: ${known.join(', ') || '(none)'}; a kernel is a recipe file kernels/<name>.json`;
  if (options.all && text.trim() === 'all') return known;
  const names = options.single ? [text.trim()] : splitList(text);
  if (names.length === 0 || names[0] === '') throw optionError(flag, text, options.single ? 'a kernel recipe' : 'kernel recipes, comma-separated', hint);
  for (const name of names) if (!known.includes(name)) throw new InputError(`${flag}: unknown kernel "${name}"`, hint);
  checkDistinct(flag, names, 'kernel');
  return names;
}

/**
 * Variants of patches/, comma-separated ("all" when allowed: then the variants that have patches
 * for every one of `kernels`); each must have patches for the series of every one of `kernels`.
 */
export function parseVariants(text: string, catalog: Catalog, kernels: string[], options: { flag?: string; all?: boolean; single?: boolean } = {}): string[] {
  const flag = options.flag ?? '--variant';
  const known = catalog.variants;
  const hint = `known variants: ${known.join(', ') || '(none)'}; a variant is a folder patches/<variant>/<series>/`;
  if (options.all && text.trim() === 'all') return known.filter((v) => kernels.every((k) => !variantMismatch(catalog, k, v)));
  const names = options.single ? [text.trim()] : splitList(text);
  if (names.length === 0 || names[0] === '') throw optionError(flag, text, options.single ? 'a variant' : 'variants, comma-separated', hint);
  for (const name of names) {
    if (!known.includes(name)) throw new InputError(`${flag}: unknown variant "${name}"`, hint);
    for (const kernel of kernels) {
      const mismatch = variantMismatch(catalog, kernel, name);
      if (mismatch) throw new InputError(`${flag}: ${mismatch.problem}`, mismatch.hint);
    }
  }
  checkDistinct(flag, names, 'variant');
  return names;
}

/**
 * The guest plan must fit the kernel command line (it travels there): checked here, before the
 * build, rather than when the VM is about to start. kexp explain adds its probes to the plan later
 * (compressed); what is checked here is the part the flags make.
 */
export function checkPlanFits(plan: GuestPlan, what: string): void {
  const append = kernelCommandLine({ params: { ...encodePlan(plan), 'kexp.out': '/dev/ttyS1' }, tscKhz: 99_999_999 });
  if (append.length >= MAX_COMMAND_LINE) {
    throw new InputError(
      `${what}: the guest plan is too long for the kernel command line (${append.length} of ${MAX_COMMAND_LINE} bytes)`,
      'run fewer sizes, workloads, functions or repetitions per boot',
    );
  }
}

/**
 * A function (or group/tracepoint) a run's tables can show: one its cells counted, or one its
 * experiment counts (a run still going, or stopped early, has not counted everything yet).
 */
export function checkReportedFunction(flag: string, name: string, counted: string[], planned: string[] = []): string {
  const known = [...new Set(counted)].sort();
  const more = [...new Set(planned)].filter((f) => !known.includes(f)).sort();
  const listed = `this run counted: ${known.join(', ') || '(nothing yet)'}${more.length > 0 ? `; its experiment also counts: ${more.join(', ')}` : ''}`;
  if (!isFunctionName(name) && !isEventName(name)) throw new InputError(`${flag}: "${name}" is not ${FUNCTION_NAME_TEXT} or ${EVENT_NAME_TEXT}`, listed);
  if (!known.includes(name) && !more.includes(name)) throw new InputError(`${flag}: this run never counted "${name}"`, listed);
  return name;
}
