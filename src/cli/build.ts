import type { Command } from 'commander';
import { listKernelNames, loadRecipe } from '../config/recipe.js';
import { resolveVariantNames } from '../config/variants.js';
import { InputError } from '../core/errors.js';
import { shortKey } from '../core/hash.js';
import { ensureHost } from '../doctor/probe.js';
import { buildKernel, type BuildProgress, type KernelArtifact } from '../kernel/build.js';
import { createProgress, elapsed } from './progress.js';
import { action, type Registrar } from './action.js';
import { splitList } from '../core/list.js';

export interface BuildJson {
  kernel: string;
  variant: string;
  key: string;
  bzImage: string;
  cached: boolean;
  seconds: number;
}

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

export function describeProgress(p: BuildProgress, started: number): string {
  const what = `${p.kernel}/${p.variant}`;
  if (p.stage === 'compiling') return `${what}: compiling [${elapsed(started)}, ${p.objects ?? 0} objects${p.current ? `, ${p.current}` : ''}]`;
  return `${what}: ${p.stage} [${elapsed(started)}]`;
}

export const registerBuild: Registrar = (program: Command) => {
  program
    .command('build')
    .description('build the bzImage of a kernel recipe with a variant\'s patches (from the store when built before)')
    .requiredOption('-k, --kernel <names>', 'kernel recipe(s) from kernels/, comma-separated, or "all"')
    .option('-V, --variant <names>', 'variant(s) from patches/, comma-separated, or "all"', 'baseline')
    .option('-j, --jobs <n>', 'make -j (default: number of cores)', (v) => Number(v))
    .option('--json', 'print one JSON object per build on stdout (schemas/build.schema.json)')
    .addHelpText('after', `
Examples:
  kexp build --kernel 6.1 --variant early-break
  kexp build --kernel 6.12 --variant all --json

The first build of a kernel extracts its source once into the cache and compiles it (minutes);
a variant of a kernel built before recompiles only the files its patches touch (seconds);
a build whose inputs are unchanged is a store hit (well under a second).`)
    .action(action('build', async (ctx, options: { kernel: string; variant: string; jobs?: number }) => {
      await ensureHost(ctx.root, { onInstall: (pkgs) => ctx.err(`installing missing Debian packages: ${pkgs.join(' ')}`) });
      const kernels = options.kernel === 'all' ? listKernelNames(ctx.root) : splitList(options.kernel);
      for (const kernel of kernels) loadRecipe(ctx.root, kernel);
      const variants = resolveVariantNames(ctx.root, options.variant);
      if (options.jobs !== undefined && (!Number.isInteger(options.jobs) || options.jobs < 1)) throw new InputError(`--jobs: expected a positive whole number, found ${options.jobs}`);
      const progress = createProgress(true);
      for (const kernel of kernels) {
        for (const variant of variants) {
          const started = Date.now();
          try {
            const artifact = await buildKernel(
              { root: ctx.root, layout: ctx.layout, store: ctx.store, logger: ctx.logger, jobs: options.jobs, signal: ctx.signal, onProgress: (p) => progress.update(describeProgress(p, started)) },
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
      }
      return 0;
    }));
};
