import type { Command } from 'commander';
import { loadRecipe } from '../config/recipe.js';
import { loadCatalog, type Catalog } from '../config/catalog.js';
import { shortKey } from '../core/hash.js';
import { buildKernel, type KernelArtifact } from '../kernel/build.js';
import { createProgress, describeProgress, elapsed } from './progress.js';
import { action, type Registrar } from './action.js';
import { ensureHostReady, workspace } from './context.js';
import { parseJobs, parseKernels, parseVariants } from './options.js';
import { addOwnKernelOptions, selectKernel, type OwnKernelOptions } from './own-kernel.js';
import type { BuildJson } from './json-output.js';
import { keptSourceFiles } from '../explain/source.js';

export type { BuildJson } from './json-output.js';

export function buildJson(artifact: KernelArtifact): BuildJson {
  return {
    kernel: artifact.kernel,
    variant: artifact.variant,
    key: artifact.key,
    bzImage: artifact.bzImage,
    cached: artifact.cached,
    seconds: Math.round(artifact.seconds * 1000) / 1000,
  };
}

export interface BuildFlags {
  kernel: string;
  variant: string;
  jobs?: string;
}

export interface BuildChoice {
  /** Every kernel × variant to build, in order. */
  builds: { kernel: string; variant: string }[];
  jobs?: number;
}

/**
 * The flags of kexp build, checked before anything is built (pure given the catalog). "all"
 * variants of a kernel are those with patches for its series (or none at all, like baseline).
 */
export function checkBuildOptions(flags: BuildFlags, catalog: Catalog): BuildChoice {
  const kernels = parseKernels(flags.kernel, catalog, { all: true });
  const builds = kernels.flatMap((kernel) => parseVariants(flags.variant, catalog, [kernel], { all: true }).map((variant) => ({ kernel, variant })));
  return { builds, ...(flags.jobs !== undefined ? { jobs: parseJobs(flags.jobs) } : {}) };
}

export const registerBuild: Registrar = (program: Command) => {
  const command = program
    .command('build')
    .description("build the bzImage of a kernel recipe with a variant's patches (from the store when built before)")
    .option('-k, --kernel <names>', 'kernel recipe(s) from kernels/, comma-separated, or "all"')
    .option('-V, --variant <names>', 'variant(s) from patches/, comma-separated, or "all"; NAME=PATH is a patch (see --patch)', 'baseline')
    .option('-j, --jobs <n>', 'make -j (default: number of cores)')
    .option('--json', 'print one JSON object per build on stdout (schemas/build.v1.schema.json)');
  addOwnKernelOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  kexp build --kernel 6.1 --variant early-break
  kexp build --kernel 6.12 --variant all --json
  kexp build --tree ~/linux                       your tree as it is, built in kexp's cache
  kexp build --kernel 6.12 --patch fix.patch      6.12 and 6.12 with fix.patch (variant "fix")
  kexp build --tree ~/linux --config defconfig --config-add CONFIG_DEBUG_VM=y

The first build of a kernel extracts its source once into the cache and compiles it (minutes);
a variant of a kernel built before recompiles only the files its patches touch (seconds);
a build whose inputs are unchanged is a store hit (well under a second).`,
    )
    .action(
      action('build', async (ctx, flags: BuildFlags & OwnKernelOptions) => {
        const selected = selectKernel(ctx, flags, 'build');
        const { builds, jobs } = checkBuildOptions({ ...flags, kernel: selected.kernel, variant: selected.variant }, loadCatalog(ctx.root));
        for (const kernel of new Set(builds.map((b) => b.kernel))) loadRecipe(ctx.root, kernel);
        await ensureHostReady(ctx);
        const progress = createProgress(true);
        for (const { kernel, variant } of builds) {
          const started = Date.now();
          try {
            const artifact = await buildKernel(
              {
                ...workspace(ctx),
                jobs,
                signal: ctx.signal,
                keepSources: keptSourceFiles,
                onProgress: (p) => progress.update(describeProgress(p, started)),
              },
              kernel,
              variant,
            );
            const how = artifact.cached ? 'from the store' : `built in ${artifact.seconds.toFixed(1)} s, ${artifact.record.objectsCompiled} objects compiled`;
            progress.succeed(`${kernel}/${variant}: ${how} (key ${shortKey(artifact.key)})`);
            if (ctx.json) ctx.out(JSON.stringify(buildJson(artifact)));
            else ctx.out(artifact.bzImage);
          } catch (error) {
            progress.fail(`${kernel}/${variant}: failed after ${elapsed(started)}`);
            throw error;
          }
        }
        return 0;
      }),
    );
};
