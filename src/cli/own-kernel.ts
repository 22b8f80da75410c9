/**
 * The flags that point a command at a developer's own kernel: --tree, --patch (and --variant
 * NAME=PATH), --config, --config-add. They are turned into a layer on top of the command's root
 * (config/own-kernel.ts); the command then goes on with the layer as its root and plain kernel and
 * variant names, checked by the same parsers as always.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { splitList } from '../core/list.js';
import { ownKernelLayer, wantsOwnKernel, type ExperimentOverride, type OwnKernelFlags } from '../config/own-kernel.js';
import { type CommandContext, workspace } from './context.js';
import { repeatable } from './options.js';
import type { Catalog } from '../config/catalog.js';
import { kexpFragmentFiles } from '../config/own-kernel.js';
import { listKernelNames, loadRecipe } from '../config/recipe.js';
import { readBzImageHeader } from '../kernel/bzimage.js';
import { externalKernelName, importBzImage, sourceTreeOf } from '../kernel/external.js';
import type { KernelArtifact } from '../kernel/build.js';

export interface OwnKernelOptions {
  kernel?: string;
  variant?: string;
  tree?: string;
  patch?: string[];
  config?: string;
  configAdd?: string[];
}

/** --tree, and unless left out --patch, --config and --config-add. */
export function addOwnKernelOptions(command: Command, parts: { patch?: boolean; config?: boolean } = { patch: true, config: true }): Command {
  command.option(
    '-t, --tree <dir>',
    "your kernel source tree as it is on disk (uncommitted and untracked files included), instead of --kernel; built in kexp's cache, never written to",
  );
  if (parts.patch !== false)
    command.option(
      '-P, --patch <file|dir>',
      'a patch as a variant of its own: a mail, an mbox of several, or a folder of NNNN-*.patch, named after the file (or --variant NAME=PATH); repeatable',
      repeatable,
    );
  if (parts.config !== false) {
    command.option(
      '--config <file|target>',
      "the configuration's base instead of tinyconfig: a full .config, or a make target such as defconfig (kexp's fragments still go on top)",
    );
    command.option('--config-add <CONFIG_X=y|file>', "a setting or a fragment file on top of the base (kexp's fragments go last); repeatable", repeatable);
  }
  return command;
}

/** Which variants a command takes when patches are given: one to boot, several to build, a comparison to explain or run. */
export type VariantUse = 'single' | 'build' | 'compare';

/** The kernel and variant lists as text, for the usual parsers; ctx.root is now the layer when one was needed. */
export interface OwnKernelSelection {
  kernel: string;
  variant: string;
  /** The variants the patches became. */
  patchVariants: string[];
  /** With `experiment`: the experiment written into the layer. */
  experiment?: string;
}

/** The --variant items that are patches (NAME=PATH) and those that are names. */
export function splitVariantFlag(text: string | undefined): { names: string[]; patches: string[] } {
  const items = splitList(text);
  return { names: items.filter((i) => !i.includes('=')), patches: items.filter((i) => i.includes('=')) };
}

/**
 * Apply the own-kernel flags: check them, write the layer (nothing for bad input), point ctx at
 * it. `defaultKernel` is the kernel when neither --kernel nor --tree is given (none: one is required).
 */
export function selectKernel(
  ctx: CommandContext,
  flags: OwnKernelOptions,
  use: VariantUse,
  options: { defaultKernel?: string; experiment?: ExperimentOverride } = {},
): OwnKernelSelection {
  const { names, patches } = splitVariantFlag(flags.variant);
  const own: OwnKernelFlags = {
    ...(flags.kernel !== undefined ? { kernels: flags.kernel === 'all' ? listKernelNames(ctx.root) : splitList(flags.kernel) } : {}),
    ...(flags.tree !== undefined ? { tree: flags.tree } : {}),
    ...(flags.config !== undefined ? { config: flags.config } : {}),
    ...(flags.configAdd ? { configAdd: flags.configAdd } : {}),
    patches: [...patches, ...(flags.patch ?? [])],
  };
  if (flags.kernel === undefined && flags.tree === undefined && !options.defaultKernel && !options.experiment) {
    throw new InputError(
      'which kernel? give --kernel NAME (a recipe of kernels/) or --tree DIR (your source tree)',
      'kexp build --kernel 6.12, or kexp build --tree ~/linux',
    );
  }
  let kernel = flags.kernel ?? options.defaultKernel ?? '';
  let patchVariants: string[] = [];
  let experiment: string | undefined;
  if (wantsOwnKernel(own) || (options.experiment && (flags.kernel !== undefined || names.length > 0))) {
    const choice = ownKernelLayer(
      ctx.root,
      join(ctx.layout.root, 'layers'),
      { ...own, ...(own.kernels === undefined && own.tree === undefined && options.defaultKernel ? { kernels: [options.defaultKernel] } : {}) },
      options.experiment ? { ...options.experiment, variants: names } : undefined,
    );
    ctx.root = choice.root;
    kernel = choice.kernels.join(',');
    patchVariants = choice.patchVariants;
    experiment = choice.experiment;
    ctx.logger.info({ layer: choice.root, kernels: choice.kernels, patchVariants }, 'own kernel: layer');
  }
  return { kernel, variant: variantsFor(use, names, patchVariants), patchVariants, ...(experiment ? { experiment } : {}) };
}

/**
 * The variant list a command takes, from the names given with --variant and the variants the
 * patches became: explain and run compare with baseline (first) unless names are given; boot
 * takes the one given; build builds what is named and the patches. Nothing at all: baseline. Pure.
 */
export function variantsFor(use: VariantUse, names: string[], patchVariants: string[]): string {
  const variants = use === 'compare' ? [...new Set([...(names.length > 0 ? names : ['baseline']), ...patchVariants])] : [...names, ...patchVariants];
  return variants.length > 0 ? variants.join(',') : 'baseline';
}

/** --bzimage: a kernel built elsewhere, with what the command knows of it. */
export interface ExternalChoice {
  file: string;
  /** The cell name: its release, e.g. 6.12.118. */
  name: string;
  /** "6.12", for kexp's fragments of that series. */
  series?: string;
  configFile?: string;
  /** explain: the recipe whose source it was built from (--kernel K, or --tree DIR turned into a layer's recipe). */
  sourceKernel?: string;
}

/** The flags that go with --bzimage, checked (exit 2 for those that do not), the header read. */
export function checkExternalFlags(ctx: CommandContext, flags: OwnKernelOptions & { bzimage?: string }, command: 'boot' | 'explain'): ExternalChoice {
  const file = flags.bzimage!;
  const clash = [
    flags.patch?.length ? '--patch' : '',
    flags.configAdd?.length ? '--config-add' : '',
    flags.variant !== undefined ? '--variant' : '',
    command === 'boot' && flags.kernel !== undefined ? '--kernel' : '',
    command === 'boot' && flags.tree !== undefined ? '--tree' : '',
  ].filter(Boolean);
  if (clash.length > 0) {
    throw new InputError(
      `--bzimage ${file} with ${clash.join(', ')}: a kernel built elsewhere is booted as it is`,
      command === 'explain'
        ? 'explain --bzimage takes --kernel NAME or --tree DIR only to say which source it was built from, and --config for its .config'
        : 'give --config FILE for its .config, nothing else about the kernel',
    );
  }
  const header = readBzImageHeader(file);
  const series = /^(\d+\.\d+)/.exec(header.release ?? '')?.[1];
  let sourceKernel: string | undefined;
  if (command === 'explain') {
    if (flags.kernel === undefined && flags.tree === undefined)
      throw new InputError(
        `explain --bzimage ${file}: which source was it built from? explain reads the probed functions' parameters and the FOLL_* flags from it`,
        'add --tree DIR (the tree it was built from) or --kernel NAME (a recipe of the same source)',
      );
    sourceKernel = flags.tree !== undefined ? selectKernel(ctx, { tree: flags.tree }, 'single').kernel : flags.kernel;
  }
  return {
    file,
    name: externalKernelName(header.release),
    ...(series ? { series } : {}),
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    ...(sourceKernel ? { sourceKernel } : {}),
  };
}

/** The catalog with the external kernel in it, so that the usual option checks take its name. */
export function withExternalKernel(catalog: Catalog, name: string): Catalog {
  return { ...catalog, kernels: [...new Set([...catalog.kernels, name])], variants: [...new Set([...catalog.variants, 'bzimage'])] };
}

/** Check the image against what kexp needs and put it in the store; for explain, its source tree made ready. */
export async function importExternal(ctx: CommandContext, choice: ExternalChoice): Promise<KernelArtifact> {
  const source =
    choice.sourceKernel !== undefined
      ? await sourceTreeOf(loadRecipe(ctx.root, choice.sourceKernel), {
          ...workspace(ctx),
          onStage: (text) => ctx.err(`${choice.sourceKernel}: ${text}`),
        })
      : undefined;
  return importBzImage(ctx.store, {
    bzImage: choice.file,
    ...(choice.configFile !== undefined ? { configFile: choice.configFile } : {}),
    fragmentFiles: kexpFragmentFiles(ctx.root, choice.series),
    ...(source ? { source } : {}),
    signal: ctx.signal,
  });
}
