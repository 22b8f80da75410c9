/**
 * A kernel built elsewhere (--bzimage FILE): checked, then put in the store like one kexp built, so
 * that booting it is the same path as booting any kernel. What kexp needs of it (the serial console,
 * an initramfs, tracing, kprobes, userfaultfd, KVM for async-pf) is checked before booting, against
 * kexp's own fragments, from the configuration the image embeds (CONFIG_IKCONFIG) or the .config
 * given beside it; what is missing is named with what it breaks.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { kexpVersion } from '../core/version.js';
import { configFileProblem, plainName } from '../config/recipe.js';
import type { ArtifactStore } from '../store/store.js';
import { writeJsonAtomic } from '../store/store.js';
import { embeddedConfig, readBzImageHeader } from './bzimage.js';
import { identifySource, preparePristineTree, treeIsReady, treePaths } from './source.js';
import { withLock } from '../store/lock.js';
import type { StageContext } from '../store/workspace.js';
import type { KernelRecipe } from '../config/recipe.js';
import { checkKernelRequirements, formatRequirementProblems, requirementsOfFragments } from './requirements.js';
import { ARCH, kernelFromStore, type BuildRecord, type KernelArtifact } from './build.js';

export interface ExternalKernelRequest {
  /** --bzimage FILE */
  bzImage: string;
  /** --config FILE given beside it (else the embedded one). */
  configFile?: string;
  /** kexp's fragments: what the kernel must have. */
  fragmentFiles: string[];
  /** The source it was built from, for explain (a tree kexp has, by its id), when known. */
  source?: { treeId: string; label: string; sourceId: string; kind: string };
  signal?: AbortSignal;
}

/** A cell name for it: its release ("6.12.118") when the header says, else "bzimage". Pure. */
export function externalKernelName(release: string | undefined): string {
  return plainName(release ?? '', 'bzimage');
}

export async function importBzImage(store: ArtifactStore, request: ExternalKernelRequest): Promise<KernelArtifact> {
  const started = Date.now();
  const file = resolve(request.bzImage);
  const header = readBzImageHeader(file);
  let configText: string | undefined;
  let configFrom: string;
  if (request.configFile !== undefined) {
    configFrom = request.configFile;
    try {
      configText = readFileSync(request.configFile, 'utf8');
    } catch (error) {
      throw new InputError(
        `--config ${request.configFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        'give the .config the bzImage was built with',
      );
    }
    const problem = configFileProblem(configText);
    if (problem) throw new InputError(`--config ${request.configFile}: ${problem}`, "give the .config the bzImage was built with (its build folder's .config)");
  } else {
    configFrom = `${file} (its embedded configuration)`;
    configText = await embeddedConfig(file, request.signal ? { signal: request.signal } : {});
    if (configText === undefined) {
      throw new InputError(
        `--bzimage ${file}: it embeds no configuration (built without CONFIG_IKCONFIG), so kexp cannot check that it has what kexp needs`,
        'give the .config it was built with: --config FILE (or rebuild it with CONFIG_IKCONFIG=y)',
      );
    }
  }
  const problems = checkKernelRequirements(configText, requirementsOfFragments(request.fragmentFiles), configFrom);
  if (problems.length > 0) throw new InputError(`--bzimage ${file}: ${formatRequirementProblems(problems, configFrom)}`);

  const image = readFileSync(file);
  const key = sha256(
    Buffer.concat([Buffer.from(`kexp-external-bzimage\0${request.source?.sourceId ?? ''}\0`), image, Buffer.from('\0'), Buffer.from(configText)]),
  );
  if (!store.has('kernels', key)) {
    const name = externalKernelName(header.release);
    const now = new Date().toISOString();
    const record: BuildRecord = {
      schema: 'kexp/kernel-build@1',
      kernel: name,
      variant: 'bzimage',
      series: name,
      key,
      inputKey: key,
      status: 'ok',
      source: request.source ?? {
        kind: 'bzimage',
        label: `${file}${header.kernelVersion ? ` (${header.kernelVersion})` : ''}`,
        sourceId: `bzimage-${sha256(image)}`,
        treeId: 'none',
      },
      recipe: { file, fragments: [], makeVariables: {} },
      patches: [],
      configSha256: sha256(configText),
      compiler: 'unknown (built elsewhere)',
      arch: ARCH,
      tree: { path: '', buildDir: '', created: false },
      objectsCompiled: 0,
      warnings: [],
      reproducer: [],
      timings: { total: (Date.now() - started) / 1000 },
      kexpVersion: kexpVersion(),
      host: hostname(),
      startedAt: now,
      finishedAt: now,
      logFile: '',
    };
    await store.put('kernels', key, async (dir) => {
      copyFileSync(file, join(dir, 'bzImage'));
      writeFileSync(join(dir, 'config'), configText);
      writeJsonAtomic(join(dir, 'build.json'), record);
    });
  }
  return { ...kernelFromStore(store, key), cached: false, seconds: (Date.now() - started) / 1000 };
}

/**
 * For explain: the source a kernel built elsewhere was built from (a recipe's, or a --tree's),
 * its working copy made ready (extracted, or checked out from the snapshot) so that explain can
 * read the probed functions' definitions from it.
 */
export async function sourceTreeOf(
  recipe: KernelRecipe,
  env: Pick<StageContext, 'layout' | 'logger' | 'signal'> & { onStage?: (text: string) => void },
): Promise<NonNullable<ExternalKernelRequest['source']>> {
  const identity = await identifySource(recipe, env.layout, env.signal ? { signal: env.signal } : {});
  const paths = treePaths(env.layout, identity);
  if (!treeIsReady(paths) || identity.commit) {
    env.onStage?.(`preparing its source for explain (${identity.label})`);
    await withLock(
      env.layout.locks,
      `tree-${identity.treeId}`,
      () => preparePristineTree(identity, paths, { logger: env.logger, ...(env.signal ? { signal: env.signal } : {}) }),
      env.signal ? { signal: env.signal } : {},
    );
  }
  return { kind: identity.kind, label: identity.label, sourceId: identity.sourceId, treeId: identity.treeId };
}
