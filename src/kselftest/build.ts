/**
 * The kselftest stage: the tests a user named, built from the very source tree and variant a
 * kernel artifact was built from, statically (the guest has no libc), each cached by content in
 * the store (kselftests/<key>/): the source's identity, the variant's patch diffs, the folder and
 * program, the compiler. Only the named programs are built, with the selftests' own Makefiles
 * (`make OUTPUT=... <OUTPUT>/<program>`), against the tree's UAPI headers (`make headers`).
 *
 * Cold costs are kept to one tree: the headers and each folder's objects live in
 * work/<tree>/kselftest/ and make reuses them, so the KVM selftests' library is compiled once
 * per source tree (again only if a variant's patch touches what it is built from).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus } from 'node:os';
import { BuildError, InputError } from '../core/errors.js';
import { hashJson, sha256 } from '../core/hash.js';
import { displayCommand, ProcessError, run } from '../core/proc.js';
import { writeJsonAtomic } from '../store/store.js';
import { withLock } from '../store/lock.js';
import type { StageContext } from '../store/workspace.js';
import { loadRecipe, type KernelRecipe } from '../config/recipe.js';
import { loadVariant, type VariantSeries } from '../config/variants.js';
import { compilerVersion } from '../core/toolchain.js';
import type { KernelArtifact } from '../kernel/build.js';
import { patchDiffHash } from '../kernel/keys.js';
import { identifySource, preparePristineTree, treePaths, git } from '../kernel/source.js';
import { elfKind } from '../core/elf.js';
import { gitSource, pristineTree, resolveKselftests, SELFTESTS, treeReady, type ResolvedKselftest } from './resolve.js';
import type { KselftestSpec } from '../config/kselftest.js';
import { phaseTimer } from '../core/timings.js';

export const KSELFTEST_RECIPE_VERSION = 1;
/** What every program is built with on top of its Makefile's own flags. */
export const KSELFTEST_MAKE_VARIABLES = { EXTRA_CFLAGS: '-static' } as const;

export interface KselftestContext extends StageContext {
  onStage?: (stage: string) => void;
}

export interface BuiltKselftest extends ResolvedKselftest {
  key: string;
  /** The program in the store. */
  binary: string;
  /** Where the guest finds it; it runs in its folder, as the kselftest runner runs it. */
  guestPath: string;
  guestDir: string;
  cached: boolean;
  /** This program's build (make only), 0 for a store hit. */
  seconds: number;
}

export interface KselftestBuildRecord {
  schema: 'kexp/kselftest-build@1';
  key: string;
  label: string;
  kernel: string;
  variant: string;
  kernelKey: string;
  sourceId: string;
  dir: string;
  program: string;
  patches: { name: string; diffSha256: string }[];
  compiler: string;
  static: boolean;
  reproducer: string[];
  timings: Record<string, number>;
  builtAt: string;
}

/** Where a kselftest program goes in the guest image. */
export function guestDirOf(dir: string): string {
  return `/kselftest/${dir}`;
}

/** The key of one program of one kernel variant's tree (pure). */
export function kselftestKey(inputs: { sourceId: string; patchDiffs: string[]; dir: string; program: string; compiler: string }): string {
  return hashJson({ v: KSELFTEST_RECIPE_VERSION, ...inputs, make: KSELFTEST_MAKE_VARIABLES });
}

/** The variant's patches as the kernel artifact was built with them; a patch changed since is an input error. */
function seriesOf(root: string, kernel: KernelArtifact): VariantSeries {
  const recipe = loadRecipe(root, kernel.kernel);
  const series = loadVariant(root, kernel.variant, recipe.series);
  const now = series.patches.map((p) => patchDiffHash(p.content));
  const then = kernel.record.patches.map((p) => p.diffSha256);
  if (now.length !== then.length || now.some((d, i) => d !== then[i])) {
    throw new InputError(
      `kselftests of ${kernel.kernel}/${kernel.variant}: patches/${kernel.variant}/${series.series} changed since the kernel ${kernel.key.slice(0, 12)} was built`,
      `rebuild it first (kexp build --kernel ${kernel.kernel} --variant ${kernel.variant}), so that the tests and the kernel come from the same source`,
    );
  }
  return series;
}

/** The recipe and patch series a kernel was built from, when they are not a recipe file and a variant folder (a bisection's steps). */
export interface KernelOrigin {
  recipe: KernelRecipe;
  series: VariantSeries;
}

/** Resolve the named tests against the kernel's source (exit 2 naming the known ones), then build what the store lacks. */
export async function buildKselftests(ctx: KselftestContext, kernel: KernelArtifact, specs: KselftestSpec[], source?: KernelOrigin): Promise<BuiltKselftest[]> {
  if (specs.length === 0) return [];
  const series = source?.series ?? seriesOf(ctx.root, kernel);
  const tree = pristineTree(kernel, ctx.layout);
  const recipe = source?.recipe ?? loadRecipe(ctx.root, kernel.kernel);
  if (!treeReady(tree)) {
    // A kernel taken from a store (a fleet's) may have no tree here yet.
    ctx.onStage?.('kselftests: preparing the source tree');
    const identity = await identifySource(recipe, ctx.layout);
    await withLock(
      ctx.layout.locks,
      `tree-${identity.treeId}`,
      () => preparePristineTree(identity, treePaths(ctx.layout, identity), { logger: ctx.logger, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
      { ...(ctx.signal ? { signal: ctx.signal } : {}) },
    );
  }
  const resolved = await resolveKselftests(gitSource(tree), specs);
  const compiler = await compilerVersion(ctx.layout);
  const patchDiffs = kernel.record.patches.map((p) => p.diffSha256);
  const planned = resolved.map((r) => {
    const key = kselftestKey({ sourceId: kernel.record.source.sourceId, patchDiffs, dir: r.dir, program: r.program, compiler });
    const guestDir = guestDirOf(r.dir);
    return { ...r, key, binary: join(ctx.store.path('kselftests', key), 'program'), guestDir, guestPath: `${guestDir}/${r.program}` };
  });
  const missing = planned.filter((p) => !ctx.store.has('kselftests', p.key));
  const seconds = new Map<string, number>();
  if (missing.length > 0) {
    const identity = await identifySource(recipe, ctx.layout);
    if (identity.sourceId !== kernel.record.source.sourceId) {
      throw new InputError(
        `kselftests of ${kernel.kernel}/${kernel.variant}: the kernel ${kernel.key.slice(0, 12)} was built from ${kernel.record.source.label}, the recipe now names ${identity.label}`,
        `rebuild it first: kexp build --kernel ${kernel.kernel} --variant ${kernel.variant}`,
      );
    }
    const paths = treePaths(ctx.layout, identity);
    ctx.onStage?.(`kselftests: waiting for the ${kernel.kernel} tree`);
    await withLock(
      ctx.layout.locks,
      `tree-${identity.treeId}`,
      async () => {
        const left = missing.filter((p) => !ctx.store.has('kselftests', p.key));
        if (left.length === 0) return;
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const logFile = join(ctx.layout.logs, 'kselftests', `${kernel.kernel}-${kernel.variant}-${stamp}.log`);
        mkdirSync(dirname(logFile), { recursive: true });
        const timings: Record<string, number> = {};
        const timed = phaseTimer(timings);
        ctx.onStage?.(`kselftests: ${kernel.kernel}/${kernel.variant} source`);
        await timed('prepareTree', () => preparePristineTree(identity, paths, { logger: ctx.logger, logFile, ...(ctx.signal ? { signal: ctx.signal } : {}) }));
        await timed('applyPatches', () => applySeries(paths.src, series, logFile, ctx.signal));
        const work = join(paths.dir, 'kselftest');
        const headers = join(work, 'headers');
        ctx.onStage?.('kselftests: UAPI headers');
        const headerArgs = ['-C', paths.src, `O=${headers}`, 'ARCH=x86_64', `-j${cpus().length}`, 'headers'];
        await timed('headers', () =>
          make(headerArgs, { logFile, ...(ctx.signal ? { signal: ctx.signal } : {}) }, `make headers for ${kernel.kernel}/${kernel.variant}`),
        );
        for (const p of left) {
          const out = join(work, 'out', p.dir);
          mkdirSync(out, { recursive: true });
          const target = join(out, p.program);
          const args = [
            '-C',
            join(paths.src, SELFTESTS, p.dir),
            `-j${cpus().length}`,
            `OUTPUT=${out}`,
            `KHDR_INCLUDES=-isystem ${join(headers, 'usr', 'include')}`,
            ...Object.entries(KSELFTEST_MAKE_VARIABLES).map(([k, v]) => `${k}=${v}`),
            target,
          ];
          ctx.onStage?.(`kselftests: building ${p.label}`);
          const t0 = Date.now();
          await make(
            args,
            { logFile, ...(ctx.signal ? { signal: ctx.signal } : {}) },
            `kselftest ${p.label} does not build for ${kernel.kernel}/${kernel.variant}`,
          );
          seconds.set(p.key, (Date.now() - t0) / 1000);
          timings[`make ${p.label}`] = seconds.get(p.key)!;
          if (!existsSync(target)) throw new BuildError(`kselftest ${p.label}: make finished but ${target} is missing`, logFile);
          const content = readFileSync(target);
          const kind = elfKind(content);
          const record: KselftestBuildRecord = {
            schema: 'kexp/kselftest-build@1',
            key: p.key,
            label: p.label,
            kernel: kernel.kernel,
            variant: kernel.variant,
            kernelKey: kernel.key,
            sourceId: kernel.record.source.sourceId,
            dir: p.dir,
            program: p.program,
            patches: kernel.record.patches.map((x) => ({ name: x.name, diffSha256: x.diffSha256 })),
            compiler,
            static: kind.elf && kind.interpreter === null,
            reproducer: [
              `cd ${paths.src} && git reset --hard && git clean -fdx`,
              ...series.patches.map((x) => `git -C ${paths.src} apply ${x.path}`),
              displayCommand('make', headerArgs),
              displayCommand('make', args),
            ],
            timings: { ...timings },
            builtAt: new Date().toISOString(),
          };
          await ctx.store.put('kselftests', p.key, async (dir) => {
            copyFileSync(target, join(dir, 'program'));
            writeFileSync(join(dir, 'sha256'), `${sha256(content)}\n`);
            writeJsonAtomic(join(dir, 'build.json'), record);
            copyFileSync(logFile, join(dir, 'build.log'));
          });
        }
      },
      { ...(ctx.signal ? { signal: ctx.signal } : {}) },
    );
  }
  return planned.map((p) => ({ ...p, cached: !seconds.has(p.key), seconds: seconds.get(p.key) ?? 0 }));
}

async function make(args: string[], options: { logFile: string; signal?: AbortSignal }, what: string): Promise<void> {
  try {
    await run('make', args, {
      ...options,
      tailLines: 40,
      env: { MAKEFLAGS: undefined, MFLAGS: undefined, CFLAGS: undefined, LDFLAGS: undefined, CC: undefined },
    });
  } catch (error) {
    if (error instanceof ProcessError)
      throw new BuildError(
        `${what}:\n${compilerLines(error.tail)
          .map((l) => `  | ${l}`)
          .join('\n')}`,
        options.logFile,
        `full log: ${options.logFile}`,
      );
    throw error;
  }
}

/** The compiler's last words: error lines and what follows them, else the tail. Pure. */
export function compilerLines(tail: string[]): string[] {
  const first = tail.findIndex((l) => /\berror\b|undefined reference|No rule to make target|\*\*\*/i.test(l));
  const lines = first >= 0 ? tail.slice(first) : tail;
  return lines.slice(-15);
}

async function applySeries(src: string, series: VariantSeries, logFile: string, signal?: AbortSignal): Promise<void> {
  for (const patch of series.patches) {
    try {
      await run('git', ['apply', '--whitespace=nowarn', patch.path], { cwd: src, logFile, ...(signal ? { signal } : {}), tailLines: 20 });
    } catch (error) {
      if (!(error instanceof ProcessError)) throw error;
      await git(src, ['reset', '-q', '--hard', 'HEAD']);
      throw new InputError(
        `${patch.path} does not apply to the tree the kernel was built in:\n${error.tail
          .slice(-8)
          .map((l) => `  | ${l}`)
          .join('\n')}`,
        'rebuild the kernel variant first (kexp build)',
      );
    }
  }
}
