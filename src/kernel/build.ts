/**
 * The kernel stage: recipe + variant in, a bzImage in the artifact store out.
 * Steps: identify the source → (store hit? done) → lock the tree → pristine tree → patches
 * (dry run, then apply) → resolved .config (cached) → make bzImage → publish atomically.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { BuildError, InputError, isKexpError } from '../core/errors.js';
import { compilerVersion } from '../core/toolchain.js';
import { sha256 } from '../core/hash.js';
import { capture, ProcessError, run } from '../core/proc.js';
import type { CacheLayout } from '../core/paths.js';
import { type ArtifactStore, writeJsonAtomic } from '../store/store.js';
import { withLock } from '../store/lock.js';
import type { StageContext } from '../store/workspace.js';
import { loadRecipe, type KernelRecipe } from '../config/recipe.js';
import { loadVariant, type VariantSeries } from '../config/variants.js';
import { kexpVersion } from '../core/version.js';
import {
  identifySource,
  openPristineTree,
  preparePristineTree,
  treeIsReady,
  treePaths,
  git,
  type OpenedTree,
  type SourceIdentity,
  type TreePaths,
} from './source.js';
import { baseConfigKey, makeArgs, readRequestedConfig, resolveConfig, type MakeContext } from './configure.js';
import { kernelArtifactKey, kernelInputKey, patchDiffHash, resolvedConfigKey, type KernelKeyInputs } from './keys.js';
import { parsePatch, touchedFiles } from '../config/patch-file.js';
import { explainApplyFailure, formatApplyFailure } from './patch.js';
import { kernelReproducer } from './reproducer.js';
import { cleanUpUnfinishedMake, markMakeEnded, markMakeStarted } from './unfinished.js';
import { phaseTimer } from '../core/timings.js';

export const ARCH = 'x86_64';

export interface BuildProgress {
  kernel: string;
  variant: string;
  stage:
    | 'lookup'
    | 'waiting for lock'
    | 'extracting source'
    | 'recording pristine tree'
    | 'cloning source'
    | 'resetting tree'
    | 'applying patches'
    | 'configuring'
    | 'compiling'
    | 'storing'
    | 'done';
  /** Objects compiled so far, while compiling. */
  objects?: number;
  /** The object being compiled (e.g. mm/gup.o). */
  current?: string;
}

export interface KernelBuildContext extends StageContext {
  jobs?: number;
  onProgress?: (progress: BuildProgress) => void;
  /**
   * The files of the prepared source tree (paths in it) the artifact keeps besides what its patches
   * touched, so that what reads the source later (kexp explain) needs no tree: the caller says
   * which (explain/source.ts keptSourceFiles); the kernel stage only copies them.
   */
  keepSources: (srcDir: string) => Promise<string[]>;
}

export interface BuildRecord {
  schema: 'kexp/kernel-build@1';
  kernel: string;
  variant: string;
  series: string;
  key: string;
  inputKey: string;
  status: 'ok' | 'failed' | 'cancelled';
  error?: string;
  source: { kind: string; label: string; sourceId: string; treeId: string };
  recipe: { file: string; fragments: { name: string; sha256: string }[]; makeVariables: Record<string, string>; baseConfig?: string };
  patches: { name: string; sha256: string; diffSha256: string; subject: string | undefined; files: string[] }[];
  configSha256?: string;
  compiler: string;
  arch: string;
  tree: { path: string; buildDir: string; created: boolean };
  objectsCompiled: number;
  warnings: string[];
  /** Commands that rebuild this artifact by hand. */
  reproducer: string[];
  timings: Record<string, number>;
  kexpVersion: string;
  host: string;
  startedAt: string;
  finishedAt?: string;
  logFile: string;
}

export interface KernelArtifact {
  kernel: string;
  variant: string;
  series: string;
  key: string;
  /** Absolute path of the bzImage in the store. */
  bzImage: string;
  dir: string;
  cached: boolean;
  seconds: number;
  record: BuildRecord;
}

async function ccacheCommand(): Promise<string> {
  try {
    await capture('ccache', ['--version']);
    return 'ccache gcc';
  } catch {
    return 'gcc';
  }
}

function validatePatches(series: VariantSeries, recipe: KernelRecipe): void {
  for (const patch of series.patches) {
    const parsed = parsePatch(patch.content);
    if (parsed.files.length === 0 || parsed.files.every((f) => f.hunks.length === 0)) {
      throw new InputError(
        `${patch.origin ?? patch.path}: no diff found (variant ${series.variant}, series ${series.series}, kernel ${recipe.name})`,
        'a patch needs unified diff hunks ("--- a/file", "+++ b/file", "@@ ... @@"), e.g. from git format-patch',
      );
    }
  }
}

export async function buildKernel(ctx: KernelBuildContext, kernel: string, variant: string): Promise<KernelArtifact> {
  ctx.onProgress?.({ kernel, variant, stage: 'lookup' });
  const recipe = loadRecipe(ctx.root, kernel);
  return buildKernelFrom(ctx, recipe, loadVariant(ctx.root, variant, recipe.series));
}

/** What a build's key is made of, before anything is built. */
async function keyInputs(
  layout: CacheLayout,
  recipe: KernelRecipe,
  series: VariantSeries,
  signal?: AbortSignal,
): Promise<{ identity: SourceIdentity; inputs: KernelKeyInputs }> {
  const identity = await identifySource(recipe, layout, { signal });
  const base = baseConfigKey(recipe.baseConfig);
  const inputs: KernelKeyInputs = {
    ...(base ? { baseConfig: base } : {}),
    sourceId: identity.sourceId,
    arch: ARCH,
    requestedConfig: readRequestedConfig(recipe),
    patches: series.patches,
    compiler: await compilerVersion(layout),
    makeVariables: recipe.makeVariables,
  };
  return { identity, inputs };
}

/** The key buildKernel looks a kernel variant up by: what two machines of a fleet must not build at once. */
export async function kernelInputKeyOf(root: string, layout: CacheLayout, kernel: string, variant: string): Promise<string> {
  const recipe = loadRecipe(root, kernel);
  return kernelInputKey((await keyInputs(layout, recipe, loadVariant(root, variant, recipe.series))).inputs);
}

/** The same, for a recipe and a patch series given as data (bisect builds commits and prefixes). */
export async function buildKernelFrom(ctx: KernelBuildContext, recipe: KernelRecipe, series: VariantSeries): Promise<KernelArtifact> {
  const started = Date.now();
  const kernel = recipe.name;
  const variant = series.variant;
  const progress = (stage: BuildProgress['stage'], extra: Partial<BuildProgress> = {}): void => ctx.onProgress?.({ kernel, variant, stage, ...extra });
  progress('lookup');
  validatePatches(series, recipe);
  const { identity, inputs } = await keyInputs(ctx.layout, recipe, series, ctx.signal);
  const inputKey = kernelInputKey(inputs);
  const hit = lookup(ctx.store, inputKey, started);
  if (hit) {
    progress('done');
    return hit;
  }
  const paths = treePaths(ctx.layout, identity);
  progress('waiting for lock');
  return withLock(
    ctx.layout.locks,
    `tree-${identity.treeId}`,
    async () => {
      // Another process may have built it while we waited.
      const hitAfterWait = lookup(ctx.store, inputKey, started);
      if (hitAfterWait) return hitAfterWait;
      return buildLocked({ ctx, recipe, series, identity, inputs, inputKey, paths, started, progress });
    },
    { signal: ctx.signal },
  );
}

/**
 * Which trees to make ahead, in order, given the builds in the order they will run: the trees of
 * builds the store does not have, except the first such build's own (it makes it now). Pure.
 */
export function treesToPrefetch(builds: readonly { treeId: string; inStore: boolean }[]): string[] {
  const needed = [...new Set(builds.filter((b) => !b.inStore).map((b) => b.treeId))];
  return needed.slice(1);
}

/**
 * Extract and configure the source trees that builds after the first will need, while the first
 * builds: at the lowest CPU priority, so that this takes the core make leaves idle (its serial
 * link steps, a one-file variant rebuild) rather than slow make down. Kernels whose variants are
 * all in the store are left alone, and so are trees that are ready with their configuration in
 * the store; the first build's tree is its own to make. One tree at a time, each under its tree's
 * lock (a build that needs it meanwhile waits). Never throws: what it could not do ahead, the
 * build that needs it does (and reports).
 */
export async function prefetchSourceTrees(ctx: Omit<KernelBuildContext, 'keepSources'>, builds: readonly { kernel: string; variant: string }[]): Promise<void> {
  const planned: { recipe: KernelRecipe; identity: SourceIdentity; inputs: KernelKeyInputs; inStore: boolean }[] = [];
  try {
    for (const build of builds) {
      if (ctx.signal?.aborted) return;
      const recipe = loadRecipe(ctx.root, build.kernel);
      const { identity, inputs } = await keyInputs(ctx.layout, recipe, loadVariant(ctx.root, build.variant, recipe.series));
      planned.push({ recipe, identity, inputs, inStore: lookup(ctx.store, kernelInputKey(inputs), Date.now()) !== undefined });
    }
  } catch (error) {
    // A recipe or a variant that does not load: its build says so.
    ctx.logger.debug({ err: error }, 'prefetch: not planning ahead');
    return;
  }
  for (const treeId of treesToPrefetch(planned.map((p) => ({ treeId: p.identity.treeId, inStore: p.inStore })))) {
    if (ctx.signal?.aborted) return;
    const first = planned.find((p) => p.identity.treeId === treeId && !p.inStore)!;
    const paths = treePaths(ctx.layout, first.identity);
    const configKey = resolvedConfigKey(first.inputs);
    // The pristine tree's configuration is the build's when its patches change no Kconfig file.
    const configAhead = !ctx.store.has('configs', configKey) && configKey === resolvedConfigKey({ ...first.inputs, patches: [] });
    if (treeIsReady(paths) && !configAhead) continue;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const logFile = join(ctx.layout.logs, 'builds', `${first.recipe.name}-prefetch-${stamp}.log`);
    try {
      await withLock(
        ctx.layout.locks,
        `tree-${treeId}`,
        async () => {
          const tree = await openPristineTree(first.identity, paths, { logger: ctx.logger, signal: ctx.signal, logFile, lowPriority: true });
          await tree.recorded;
          if (configAhead) {
            const makeCtx: MakeContext = {
              src: paths.src,
              arch: ARCH,
              cc: await ccacheCommand(),
              makeVariables: first.recipe.makeVariables,
              logFile,
              signal: ctx.signal,
              lowPriority: true,
            };
            await configureOnce(ctx.store, configKey, makeCtx, paths.kconfig, first.inputs, first.recipe);
          }
        },
        { signal: ctx.signal },
      );
      ctx.logger.info({ tree: paths.src, source: first.identity.label, configured: configAhead }, 'prefetch: source tree ready');
    } catch (error) {
      ctx.logger.warn({ tree: paths.src, err: error, logFile }, 'prefetch: could not prepare the source tree ahead; its build will');
    }
  }
}

/** The resolved .config of these inputs: from the store, else resolved in the scratch folder and stored. */
async function configureOnce(
  store: ArtifactStore,
  configKey: string,
  makeCtx: MakeContext,
  scratch: string,
  inputs: KernelKeyInputs,
  recipe: KernelRecipe,
): Promise<string> {
  if (store.has('configs', configKey)) return readFileSync(join(store.path('configs', configKey), 'config'), 'utf8');
  const text = await resolveConfig(makeCtx, scratch, inputs.requestedConfig, recipe.baseConfig);
  await store.put('configs', configKey, async (dir) => writeFileSync(join(dir, 'config'), text));
  return text;
}

function lookup(store: ArtifactStore, inputKey: string, started: number): KernelArtifact | undefined {
  const key = store.readIndex(`kernel-input-${inputKey}`);
  if (!key || !store.has('kernels', key)) return undefined;
  return artifactFromStore(store, key, true, started);
}

/** A kernel already in the store, by its key (a fleet worker's copy of what another machine built). */
export function kernelFromStore(store: ArtifactStore, key: string): KernelArtifact {
  return artifactFromStore(store, key, true, Date.now());
}

function artifactFromStore(store: ArtifactStore, key: string, cached: boolean, started: number): KernelArtifact {
  const dir = store.path('kernels', key);
  const record = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as BuildRecord;
  return {
    kernel: record.kernel,
    variant: record.variant,
    series: record.series,
    key,
    bzImage: join(dir, 'bzImage'),
    dir,
    cached,
    seconds: (Date.now() - started) / 1000,
    record,
  };
}

/** One build under its tree's lock, as buildKernelFrom found it: what every step of it reads. */
interface LockedBuild {
  ctx: KernelBuildContext;
  recipe: KernelRecipe;
  series: VariantSeries;
  identity: SourceIdentity;
  inputs: KernelKeyInputs;
  inputKey: string;
  paths: TreePaths;
  started: number;
  progress: (stage: BuildProgress['stage'], extra?: Partial<BuildProgress>) => void;
}

/** What the steps hand each other besides: the log, make's settings, the record being filled, the phase timer. */
interface BuildSteps extends LockedBuild {
  logFile: string;
  makeCtx: MakeContext;
  record: BuildRecord;
  timed: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

/** The configured build folder: the resolved .config in it, make's arguments and environment. */
interface ConfiguredBuild {
  resolvedText: string;
  key: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * The build itself, its tree locked: prepare the tree, patch, configure, make, store. Its record
 * (status, error, phase timings) is written beside the log in a finally, so a failed or cancelled
 * build has one too.
 */
async function buildLocked(build: LockedBuild): Promise<KernelArtifact> {
  const steps = await startRecord(build);
  const { ctx, record, started } = steps;
  const recordFile = steps.logFile.replace(/\.log$/, '.json');
  let tree: OpenedTree | undefined;
  try {
    tree = await prepareTree(steps);
    build.progress('applying patches');
    await steps.timed('applyPatches', () => applyPatches(build.paths.src, build.series, build.recipe, steps.logFile, ctx.signal));
    const configured = await configure(steps);
    if (ctx.store.has('kernels', configured.key)) {
      // Same bzImage inputs under another input key (e.g. only a patch's mail header changed).
      ctx.store.writeIndex(`kernel-input-${build.inputKey}`, configured.key);
      return artifactFromStore(ctx.store, configured.key, true, started);
    }
    await make(steps, configured);
    await waitForTreeRecord(steps, tree.recorded);
    return await storeArtifact(steps, configured);
  } catch (error) {
    record.status = isKexpError(error) && error.name === 'CancelledError' ? 'cancelled' : 'failed';
    record.error = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    // The tree's lock is let go after this: nobody may find it half-recorded.
    await tree?.recorded.catch(() => undefined);
    record.finishedAt ??= new Date().toISOString();
    record.timings.total ??= (Date.now() - started) / 1000;
    writeJsonAtomic(recordFile, record);
  }
}

/** The build's log file, make's settings and the record (status failed until the end says otherwise). */
async function startRecord(build: LockedBuild): Promise<BuildSteps> {
  const { ctx, recipe, series, identity, inputs, paths } = build;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logFile = join(ctx.layout.logs, 'builds', `${recipe.name}-${series.variant}-${stamp}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const cc = await ccacheCommand();
  const makeCtx: MakeContext = { src: paths.src, arch: ARCH, cc, makeVariables: recipe.makeVariables, logFile, signal: ctx.signal };
  const timings: Record<string, number> = {};
  const record: BuildRecord = {
    schema: 'kexp/kernel-build@1',
    kernel: recipe.name,
    variant: series.variant,
    series: series.series,
    key: '',
    inputKey: build.inputKey,
    status: 'failed',
    source: { kind: identity.kind, label: identity.label, sourceId: identity.sourceId, treeId: identity.treeId },
    recipe: {
      file: recipe.file,
      fragments: recipe.fragments.map((f) => ({ name: f.name, sha256: sha256(readFileSync(f.file)) })),
      makeVariables: recipe.makeVariables,
      ...(inputs.baseConfig ? { baseConfig: recipe.baseConfig.kind === 'file' ? `${recipe.baseConfig.file} (${inputs.baseConfig})` : inputs.baseConfig } : {}),
    },
    patches: series.patches.map((p) => {
      const parsed = parsePatch(p.content);
      return { name: p.name, sha256: sha256(p.content), diffSha256: patchDiffHash(p.content), subject: parsed.subject, files: touchedFiles(parsed) };
    }),
    compiler: inputs.compiler,
    arch: ARCH,
    tree: { path: paths.src, buildDir: paths.build, created: false },
    objectsCompiled: 0,
    warnings: [],
    reproducer: [],
    timings,
    kexpVersion: kexpVersion(),
    host: hostname(),
    startedAt: new Date(build.started).toISOString(),
    logFile,
  };
  return { ...build, logFile, makeCtx, record, timed: phaseTimer(timings) };
}

/**
 * The pristine tree. A tree just extracted is the pristine source already: its commit is recorded
 * while this build configures and compiles, unless a patch is to change the tree first.
 */
async function prepareTree({ ctx, series, identity, paths, logFile, progress, record, timed }: BuildSteps): Promise<OpenedTree> {
  const treeOptions = { logger: ctx.logger, signal: ctx.signal, logFile, onStage: (s: string) => progress(s as BuildProgress['stage']) };
  const tree = await timed('prepareTree', async () =>
    series.patches.length > 0
      ? { created: (await preparePristineTree(identity, paths, treeOptions)).created, recorded: Promise.resolve() }
      : openPristineTree(identity, paths, treeOptions),
  );
  record.tree.created = tree.created;
  return tree;
}

/** Wait for the pristine tree's commit to be recorded, counting the wait in the record's timings. */
async function waitForTreeRecord({ record }: BuildSteps, recorded: Promise<void>): Promise<void> {
  const t0 = Date.now();
  try {
    await recorded;
  } finally {
    record.timings.waitForTreeRecord = (record.timings.waitForTreeRecord ?? 0) + (Date.now() - t0) / 1000;
  }
}

/** The resolved .config (cached), the artifact's key, the build folder ready for make, and the reproducer. */
async function configure(steps: BuildSteps): Promise<ConfiguredBuild> {
  const { ctx, recipe, series, inputs, paths, makeCtx, record, progress, timed } = steps;
  progress('configuring');
  const configKey = resolvedConfigKey(inputs);
  const resolvedText = await timed('configure', () => configureOnce(ctx.store, configKey, makeCtx, paths.kconfig, inputs, recipe));
  record.configSha256 = sha256(resolvedText);
  const key = kernelArtifactKey(inputs, resolvedText);
  record.key = key;

  mkdirSync(paths.build, { recursive: true });
  // A make that died here (killed, out of memory, the machine lost) may have left files
  // half-written that make would trust: remove what it wrote before anything else runs here.
  const cleanup = cleanUpUnfinishedMake(paths.build);
  if (cleanup) {
    ctx.logger.warn(
      { buildDir: paths.build, since: cleanup.startedAt, removed: cleanup.removed.length },
      'a make was killed in this build folder; removed what it wrote',
    );
    record.warnings.push(
      `a make killed in ${paths.build} (started ${cleanup.startedAt}) left ${cleanup.removed.length} files that may be half-written; removed them, make rebuilt them`,
    );
  }
  const buildConfig = join(paths.build, '.config');
  if (!existsSync(buildConfig) || readFileSync(buildConfig, 'utf8') !== resolvedText) writeFileSync(buildConfig, resolvedText);

  const args = makeArgs(makeCtx, paths.build, ['bzImage'], ctx.jobs ?? cpus().length);
  // CCACHE_BASEDIR: kbuild names the source by its absolute path (O= outside the tree); under
  // the cache's work/ folder ccache hashes it relative to the build folder (../src/...), so the
  // same content in another tree's working copy (a clone, a user's tree) compiles from ccache.
  const env = {
    KBUILD_BUILD_USER: 'kexp',
    KBUILD_BUILD_HOST: 'kexp',
    KBUILD_BUILD_TIMESTAMP: 'kexp',
    KCONFIG_NOSILENTUPDATE: '1',
    CCACHE_BASEDIR: ctx.layout.work,
  };
  record.reproducer = kernelReproducer({
    src: paths.src,
    patches: series.patches.map((p) => p.path),
    config: { from: join(ctx.store.path('configs', configKey), 'config'), to: buildConfig },
    env,
    makeArgs: args,
  });
  return { resolvedText, key, args, env };
}

/** make bzImage, counting objects and keeping warnings; a compile error is a BuildError with the lines that say why. */
async function make({ ctx, recipe, series, paths, logFile, record, progress, timed }: BuildSteps, { args, env }: ConfiguredBuild): Promise<void> {
  progress('compiling', { objects: 0 });
  let objects = 0;
  markMakeStarted(paths.build, `${recipe.name}/${series.variant}`);
  await timed('make', () =>
    run('make', args, {
      env,
      logFile,
      signal: ctx.signal,
      tailLines: 30,
      onLine: (line) => {
        const m = /^\s+(CC|AS|LD|AR|HOSTCC|OBJCOPY)\s+(\S+)/.exec(line);
        if (m) {
          if (m[1] === 'CC' || m[1] === 'AS') objects++;
          progress('compiling', { objects, current: m[2] });
        }
        if (/\bwarning:/.test(line)) record.warnings.push(line.trim());
      },
    })
      .then((result) => {
        markMakeEnded(paths.build);
        return result;
      })
      .catch((error: unknown) => {
        // make stopped by itself (a compile error): kbuild deleted what it was writing
        // (.DELETE_ON_ERROR), nothing is half-written. Killed or cancelled: the mark stays.
        if (error instanceof ProcessError && error.processExitCode !== undefined && !ctx.signal?.aborted) markMakeEnded(paths.build);
        if (error instanceof ProcessError) {
          const errors = error.tail.filter((l) => /error|Error|\*\*\*/.test(l)).slice(-15);
          throw new BuildError(
            `make bzImage failed for kernel ${recipe.name}, variant ${series.variant}:\n${(errors.length > 0 ? errors : error.tail.slice(-15)).map((l) => `  | ${l}`).join('\n')}`,
            logFile,
            `full log: ${logFile}`,
          );
        }
        throw error;
      }),
  );
  record.objectsCompiled = objects;
}

/** Publish the bzImage, System.map, .config, the touched and kept sources, build.json and the log; index it by its input key. */
async function storeArtifact(
  { ctx, inputKey, paths, logFile, record, started, progress, timed }: BuildSteps,
  { key, resolvedText }: ConfiguredBuild,
): Promise<KernelArtifact> {
  progress('storing');
  record.status = 'ok';
  record.finishedAt = new Date().toISOString();
  const touched = [...new Set(record.patches.flatMap((p) => p.files))];
  const kept = await ctx.keepSources(paths.src);
  await timed('store', () =>
    ctx.store.put('kernels', key, async (dir) => {
      copyFileSync(join(paths.build, 'arch/x86/boot/bzImage'), join(dir, 'bzImage'));
      copyFileSync(join(paths.build, 'System.map'), join(dir, 'System.map'));
      writeFileSync(join(dir, 'config'), resolvedText);
      // The files the patches changed, as built (provenance), and the sources explain reads
      // (mm/gup.c, the FOLL_* headers), so the artifact explains itself without its tree.
      for (const file of new Set([...touched, ...kept])) {
        const from = join(paths.src, file);
        if (!existsSync(from)) continue;
        mkdirSync(dirname(join(dir, 'source', file)), { recursive: true });
        copyFileSync(from, join(dir, 'source', file));
      }
      if (kept.length > 0) writeFileSync(join(dir, 'source', 'kept.json'), `${JSON.stringify(kept)}\n`);
      record.timings.total = (Date.now() - started) / 1000;
      writeJsonAtomic(join(dir, 'build.json'), record);
      copyFileSync(logFile, join(dir, 'build.log'));
    }),
  );
  ctx.store.writeIndex(`kernel-input-${inputKey}`, key);
  progress('done');
  return artifactFromStore(ctx.store, key, false, started);
}

async function applyPatches(src: string, series: VariantSeries, recipe: KernelRecipe, logFile: string, signal?: AbortSignal): Promise<void> {
  if (series.patches.length === 0) return;
  // Dry run of each patch on top of the ones before it (git apply --check reads them in order,
  // but cannot stack them), so check and apply one at a time and reset on the first refusal.
  for (const patch of series.patches) {
    // The very text that was read, checked and hashed into the key, not the file again.
    try {
      await run('git', ['apply', '--check', '--verbose'], { cwd: src, input: patch.content, logFile, signal, tailLines: 60 });
      await run('git', ['apply', '--whitespace=nowarn'], { cwd: src, input: patch.content, logFile, signal });
    } catch (error) {
      if (!(error instanceof ProcessError)) throw error;
      await git(src, ['reset', '-q', '--hard', 'HEAD']);
      await git(src, ['clean', '-q', '-f', '-d', '-x']);
      const failure = explainApplyFailure(error.tail.join('\n'), parsePatch(patch.content));
      throw new InputError(
        formatApplyFailure(failure, patch.origin ?? patch.path, series.series, recipe.name),
        "refresh the patch against this kernel's source (the source tree was left as it was, no patch applied)",
      );
    }
  }
}
