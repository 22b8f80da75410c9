/**
 * Experiment files (experiments/*.json): which kernels, variants and workloads, at which sizes,
 * how often, counted how. Validated by a schema, then checked against what exists (kernel
 * recipes, variant folders, workload sources), each error naming the file and the field.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { redactArg } from '../core/redact.js';
import { parseJsonFile } from './issues.js';
import { loadRecipe } from './recipe.js';
import { describeLayers, findInRoot, isGeneratedLayer } from './layers.js';
import { ownKernelLayer, treeKernelName } from './own-kernel.js';
import { cacheRoot } from '../core/paths.js';
import { loadCatalog, variantMismatch, type Catalog } from './catalog.js';
import {
  ARG_TOKEN,
  DEFAULT_MEMORY_MIB,
  DEFAULT_WATCHDOG_SECONDS,
  EVENT_NAME,
  FUNCTION_NAME,
  MEMORY_MIB,
  REPETITIONS,
  WATCHDOG_SECONDS,
  WORKLOAD_MAX_PAGES,
  maxPagesFor,
} from './limits.js';
import { workloadArgsProblem } from './workloads.js';
import { collectorNames } from '../records/index.js';
import { parseKselftestSpec } from './kselftest.js';
import { checkProgramEntry } from './program.js';

const sizes = z.array(z.number().int().min(1).max(WORKLOAD_MAX_PAGES)).min(1);

export const workloadEntrySchema = z
  .object({
    name: z.string().min(1),
    args: z.array(z.string().regex(ARG_TOKEN, 'letters, digits and _.,=+:/- only')).default([]),
    /** Page counts; two or more give a per-page figure. Defaults to the experiment's sizes. */
    sizes: sizes.optional(),
  })
  .strict();

/** A program run as it is: {"command": ["/usr/bin/prog", "--mib", "{n}"]}; {n} takes each size. */
export const commandEntrySchema = z
  .object({
    command: z.array(z.string()).min(1),
    /** Values of {n} (sizes in the program's own unit; {n}M is MiB): figures per page, per n, or per run without {n}. */
    sizes: sizes.optional(),
  })
  .strict();

/** A kernel selftest built from each cell's own kernel tree and variant: {"kselftest": "mm:madv_populate", "args": []}. */
export const kselftestEntrySchema = z
  .object({
    kselftest: z.string().min(3),
    args: z.array(z.string()).default([]),
    sizes: sizes.optional(),
  })
  .strict();

/**
 * A workloads entry: a kexp workload, a program or a kselftest; every one comes out as a name (the
 * row label: the workload, the program as named, TARGET:TEST) with its arguments.
 */
const anyWorkloadEntry = z
  .union([workloadEntrySchema, commandEntrySchema, kselftestEntrySchema])
  .transform((e): { name: string; args: string[]; sizes?: number[]; program?: 'command' | 'kselftest' } => {
    if ('command' in e) return { name: e.command[0]!, args: e.command.slice(1), ...(e.sizes ? { sizes: e.sizes } : {}), program: 'command' };
    if ('kselftest' in e) return { name: e.kselftest, args: e.args, ...(e.sizes ? { sizes: e.sizes } : {}), program: 'kselftest' };
    return e;
  });

/**
 * A kernel entry that names a tree: {"tree": "../linux"} (relative to the experiment file), with
 * optionally the name its column gets (default: the folder's name), a config base and additions,
 * as --tree, --config and --config-add take them.
 */
export const treeKernelSchema = z
  .object({
    tree: z.string().min(1),
    name: z
      .string()
      .regex(/^[\w.-]+$/, 'letters, digits, dot, dash or underscore')
      .optional(),
    config: z.string().min(1).optional(),
    configAdd: z.array(z.string().min(1)).optional(),
  })
  .strict();

export const experimentSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[\w.-]+$/, 'letters, digits, dot, dash or underscore'),
    description: z.string().optional(),
    /** Recipe names, or {"tree": DIR} for a source tree as it is on disk (see treeKernelSchema). */
    kernels: z.array(z.union([z.string(), z.lazy(() => treeKernelSchema).transform((t) => t.name ?? treeKernelName(t.tree))])).min(1),
    variants: z.array(z.string()).min(1),
    workloads: z.array(anyWorkloadEntry).min(1),
    /** Files put into the guest image: a folder or a tar, absolute or relative to the project root. */
    overlay: z.string().min(1).optional(),
    sizes: sizes.default([64, 128]),
    repetitions: z.number().int().min(REPETITIONS.min).max(REPETITIONS.max).default(1),
    collectors: z.array(z.enum(collectorNames)).min(1).default(['ftrace', 'kprobe']),
    functions: z.array(z.string().regex(FUNCTION_NAME, 'a kernel symbol name')).min(1).default(['__get_user_pages', 'handle_userfault']),
    /** Tracepoints counted besides the workloads' own. */
    events: z.array(z.string().regex(EVENT_NAME, 'group/name')).default([]),
    /** Functions (of `functions`) whose calls kexp explain splits into buckets in every cell. */
    explain: z.array(z.string().regex(FUNCTION_NAME, 'a kernel symbol name')).default([]),
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
    memoryMiB: z.number().int().min(MEMORY_MIB.min).max(MEMORY_MIB.max).default(DEFAULT_MEMORY_MIB),
    timeouts: z
      .object({
        /** No new result line for this long: the VM is hung. */
        watchdogSeconds: z.number().int().min(WATCHDOG_SECONDS.min).default(DEFAULT_WATCHDOG_SECONDS),
        /** A whole boot may take this long. */
        bootSeconds: z.number().int().min(10).default(600),
      })
      .strict()
      .default({ watchdogSeconds: DEFAULT_WATCHDOG_SECONDS, bootSeconds: 600 }),
    report: z
      .object({
        /** The function (or tracepoint) the tables show. */
        function: z.string().default('__get_user_pages'),
      })
      .strict()
      .default({ function: '__get_user_pages' }),
    /** Where the cells run (the command line and $KEXP_EXECUTOR, $KEXP_REDIS override it). */
    executor: z
      .object({
        /** An executor kexp has (kexp run --help); checked against them where the run is planned. */
        type: z
          .string()
          .regex(/^[a-z][\w-]*$/, 'an executor name')
          .optional(),
        /** Redis of a kexp worker fleet, without a password: this file is copied into every run record. */
        redis: z
          .string()
          .refine(isRedisUrlWithoutPassword, 'a redis:// or rediss:// URL without a password (give a password with --redis or $KEXP_REDIS)')
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A password in executor.redis is refused here, before the schema's message could echo it. */
function refuseRedisPassword(file: string, text: string): void {
  let redis: unknown;
  try {
    redis = (JSON.parse(text) as { executor?: { redis?: unknown } } | null)?.executor?.redis;
  } catch {
    return; // not JSON: parseJsonFile says so
  }
  if (typeof redis === 'string' && redactArg(redis) !== redis)
    throw new InputError(
      `${file}: executor.redis: a redis:// or rediss:// URL without a password (found "${redactArg(redis)}")`,
      'this file is copied into every run record: give the password with --redis or $KEXP_REDIS',
    );
}

function isRedisUrlWithoutPassword(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '' && url.password === '';
  } catch {
    return false;
  }
}

export type Experiment = z.infer<typeof experimentSchema>;

export interface LoadedExperiment {
  experiment: Experiment;
  file: string;
  /** The file's text, kept verbatim in the run record. */
  text: string;
  /** The root its kernels resolve in: `root`, or a layer over it for kernel entries that name a tree. */
  root: string;
}

/** Where experiments are looked up by name, for messages: the root's layers. */
export function experimentsDir(root: string): string {
  return describeLayers(root, 'experiments');
}

/**
 * A path, or a name under experiments/ ("default" → experiments/default.json). A folder is not an
 * experiment: a run's folder gets a hint to resume it or to rerun its experiment.json.
 */
export function resolveExperimentFile(root: string, given?: string): string {
  const named = findInRoot(root, 'experiments', given === undefined ? 'default.json' : given.endsWith('.json') ? given : `${given}.json`);
  if (!given) {
    if (!named) throw new InputError('no default experiment', `looked for default.json in ${experimentsDir(root)}`);
    return named;
  }
  const file = existsSync(given) ? resolve(given) : named;
  if (!file) throw new InputError(`no experiment file "${given}"`, `give a path, or a name under ${experimentsDir(root)}`);
  if (statSync(file).isDirectory()) {
    const isRun = existsSync(join(file, 'manifest.json')) && existsSync(join(file, 'experiment.json'));
    throw new InputError(
      `${given}: is a folder, not an experiment file`,
      isRun
        ? `it is a run record: kexp run --resume ${given} finishes it, kexp run ${join(given, 'experiment.json')} runs its experiment again`
        : `give an experiment file (JSON), or a name under ${experimentsDir(root)}`,
    );
  }
  return file;
}

/** What an experiment is checked against: the project's catalog, and the executors this kexp has (checked when given). */
export type ExperimentKnown = Catalog & { executors?: readonly string[] };

/**
 * An experiment file, validated by the schema and then checked against the project (`known`): every
 * kernel, variant and workload exists, each is listed once, no two names become the same cell id,
 * every variant has patches for every kernel's series, every workload option is one the workload
 * takes, every size fits the guest's memory. Each error names the file and the field. The optional
 * parts of the catalog (series, workload options) and the executors are checked when given.
 */
export function parseExperiment(file: string, text: string, known: ExperimentKnown): Experiment {
  refuseRedisPassword(file, text);
  const experiment = parseJsonFile(file, text, experimentSchema);
  const unknown = (path: string, value: string, list: readonly string[], what: string): InputError =>
    new InputError(`${file}: ${path}: unknown ${what} "${value}"`, `known ${what}s: ${list.join(', ') || '(none)'}`);
  const executor = experiment.executor?.type;
  if (executor !== undefined && known.executors && !known.executors.includes(executor)) throw unknown('executor.type', executor, known.executors, 'executor');
  experiment.kernels.forEach((k, i) => {
    if (!known.kernels.includes(k)) throw unknown(`kernels.${i}`, k, known.kernels, 'kernel');
  });
  experiment.variants.forEach((v, i) => {
    if (!known.variants.includes(v)) throw unknown(`variants.${i}`, v, known.variants, 'variant');
  });
  experiment.workloads.forEach((w, i) => {
    if (w.program === 'kselftest') parseKselftestSpec(w.name, `${file}: workloads.${i}.kselftest`);
    else if (!w.program && !known.workloads.includes(w.name)) throw unknown(`workloads.${i}.name`, w.name, known.workloads, 'workload');
  });
  checkDistinctNames(file, 'kernels', experiment.kernels);
  checkDistinctNames(file, 'variants', experiment.variants);
  for (const kernel of experiment.kernels) {
    experiment.variants.forEach((variant, i) => {
      const mismatch = variantMismatch(known, kernel, variant);
      if (mismatch) throw new InputError(`${file}: variants.${i}: ${mismatch.problem}`, mismatch.hint);
    });
  }
  const labels = new Map<string, number>();
  experiment.workloads.forEach((w, i) => {
    const label = [w.name, ...w.args].join(' ');
    const first = labels.get(label);
    if (first !== undefined)
      throw new InputError(
        `${file}: workloads.${i}: "${label}" is listed twice (workloads.${first})`,
        'list each workload with its options once; give sizes in one entry',
      );
    labels.set(label, i);
    if (w.program) return; // a program's arguments are its own, and travel encoded
    const problem = workloadArgsProblem(w.name, w.args, known.workloadOptions?.[w.name]);
    if (problem) throw new InputError(`${file}: workloads.${i}.args: ${problem}`);
  });
  const maxPages = maxPagesFor(experiment.memoryMiB);
  const checkSizes = (path: string, list: number[]): void => {
    list.forEach((pages, j) => {
      if (pages > maxPages) {
        throw new InputError(
          `${file}: ${path}.${j}: ${pages} pages do not fit a guest of ${experiment.memoryMiB} MiB (memoryMiB): at most ${maxPages}`,
          `a workload may use half the guest's memory (${maxPages} pages of 4 KiB); raise memoryMiB (up to ${MEMORY_MIB.max}) or use fewer pages`,
        );
      }
    });
  };
  checkSizes('sizes', experiment.sizes);
  experiment.workloads.forEach((w, i) => {
    if (w.sizes && !w.program) checkSizes(`workloads.${i}.sizes`, w.sizes);
    if (w.program) checkProgramEntry(w, experiment.sizes, `${file}: workloads.${i}`);
  });
  if (experiment.timeouts.watchdogSeconds > WATCHDOG_SECONDS.max) {
    throw new InputError(
      `${file}: timeouts.watchdogSeconds: expected ${WATCHDOG_SECONDS.min} to ${WATCHDOG_SECONDS.max} seconds, found ${experiment.timeouts.watchdogSeconds}`,
    );
  }
  const targets = [...experiment.functions, ...experiment.events];
  const reported = experiment.report.function;
  if (reported.includes('/')) {
    if (!EVENT_NAME.test(reported))
      throw new InputError(
        `${file}: report.function: "${reported}" is neither a function name nor a tracepoint as group/name`,
        `e.g. "__get_user_pages" or "kvm/kvm_async_pf_ready"`,
      );
  } else if (!targets.includes(reported)) {
    throw new InputError(
      `${file}: report.function: "${reported}" is not among functions (${experiment.functions.join(', ')})`,
      'add it to "functions", or report one of them',
    );
  }
  experiment.explain.forEach((fn, i) => {
    if (!experiment.functions.includes(fn))
      throw new InputError(
        `${file}: explain.${i}: "${fn}" is not among functions (${experiment.functions.join(', ')})`,
        'explain splits the calls a collector counts: add it to "functions" too',
      );
  });
  if (experiment.explain.length > 0 && !experiment.collectors.some((c) => c === 'kprobe' || c === 'ftrace')) {
    throw new InputError(
      `${file}: explain: the buckets are checked against the kprobe or ftrace totals, and collectors has neither`,
      'add "kprobe" to collectors',
    );
  }
  return experiment;
}

/** Each name once, and no two that become the same text in cell ids and folder names. */
function checkDistinctNames(file: string, field: string, names: string[]): void {
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const cleaned = name.replace(/[^\w.-]/g, '-');
    const first = seen.get(cleaned);
    if (first === undefined) {
      seen.set(cleaned, i);
    } else if (names[first] === name) {
      throw new InputError(`${file}: ${field}.${i}: "${name}" is listed twice (${field}.${first})`, `list each of ${field} once`);
    } else {
      throw new InputError(
        `${file}: ${field}.${i}: "${name}" and ${field}.${first} "${names[first]}" both become "${cleaned}" in cell ids and folder names`,
        'rename one of them (letters, digits, _ . - are kept, the rest becomes -)',
      );
    }
  });
}

/**
 * An experiment file checked against the project at `root` (its kernels' recipes loaded too).
 * Kernel entries that name a tree become recipes in a layer on top of `root` (under `layerHome`,
 * by default beside the layer `root` already is, else the cache's layers/): the root to run it in
 * is returned with it.
 */
export function loadExperiment(root: string, file: string, options: { layerHome?: string; executors?: readonly string[] } = {}): LoadedExperiment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(
      `${file}: cannot read the experiment file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      'give an experiment file (JSON), or a name under experiments/',
    );
  }
  const layered = withTreeKernels(root, file, text, options.layerHome);
  const experiment = parseExperiment(file, text, { ...loadCatalog(layered), ...(options.executors ? { executors: options.executors } : {}) });
  // A broken recipe fails here, not after the builds of the kernels before it.
  for (const kernel of experiment.kernels) loadRecipe(layered, kernel);
  return { experiment, file, text, root: layered };
}

function withTreeKernels(root: string, file: string, text: string, layerHome: string | undefined): string {
  let entries: unknown[] = [];
  try {
    const kernels = (JSON.parse(text) as { kernels?: unknown } | null)?.kernels;
    if (Array.isArray(kernels)) entries = kernels;
  } catch {
    return root; // not JSON: parseExperiment says so
  }
  let layered = root;
  entries.forEach((entry, index) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return;
    const parsed = treeKernelSchema.safeParse(entry);
    if (!parsed.success) return; // parseExperiment names the field
    const near = (path: string): string => (existsSync(resolve(dirname(file), path)) ? resolve(dirname(file), path) : path);
    const tree = resolve(dirname(file), parsed.data.tree);
    const name = parsed.data.name ?? treeKernelName(tree);
    // Already made from this entry (the layer a run resolves in, a resumed run's own copy).
    if (treeRecipeIn(layered, name, tree)) return;
    const home = layerHome ?? (isGeneratedLayer(root) ? dirname(root) : join(cacheRoot(), 'layers'));
    try {
      layered = ownKernelLayer(layered, home, {
        tree,
        name,
        ...(parsed.data.config ? { config: near(parsed.data.config) } : {}),
        ...(parsed.data.configAdd ? { configAdd: parsed.data.configAdd.map(near) } : {}),
      }).root;
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`${file}: kernels.${index}: ${error.message}`, error.hint);
      throw error;
    }
  });
  return layered;
}

/** Whether a layer kexp wrote already has this tree as this kernel (a run's own layer, resumed). */
function treeRecipeIn(root: string, name: string, tree: string): boolean {
  const recipe = findInRoot(root, 'kernels', `${name}.json`);
  if (!recipe || !isGeneratedLayer(dirname(dirname(recipe)))) return false;
  try {
    const source = (JSON.parse(readFileSync(recipe, 'utf8')) as { source?: { type?: string; path?: string } }).source;
    return source?.type === 'tree' && source.path === tree;
  } catch {
    return false;
  }
}

export function experimentLabel(file: string): string {
  return basename(file, '.json');
}
