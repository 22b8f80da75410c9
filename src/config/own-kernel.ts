/**
 * A developer's own kernel, straight from the command line: a tree (--tree DIR), patches
 * (--patch FILE|DIR, --variant NAME=PATH), a configuration base (--config FILE|TARGET) and
 * additions (--config-add CONFIG_X=y|FILE). They become a layer on top of the command's root
 * (see layers.ts): a kernels/<name>.json recipe, fragments, patches/<variant>/<series>/ folders
 * and, for a run, an experiment; every stage after this one sees ordinary recipes and variants.
 *
 * The layer is content-addressed (its folder's name is the hash of what it holds), written
 * whole under a temporary name and renamed, so the same flags give the same layer and a layer
 * is never half-written. The patches are copied into it: a run record keeps what it measured
 * even when the user's file changes later.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../core/errors.js';
import { hashJson } from '../core/hash.js';
import { FragmentSyntaxError, parseConfigText } from './kconfig-fragment.js';
import { kernelSeriesOf, kernelTreeProblem } from './kernel-tree.js';
import { LAYER_FILE } from './layers.js';
import { BASE_CONFIG_TARGET, configFileProblem, listKernelNames, plainName, loadRecipe, type KernelRecipe, type RecipeFile } from './recipe.js';
import { listVariants, ORIGINS_FILE } from './variants.js';
import { parseVariantArg, readPatchInput, variantNameFor } from './patch-input.js';

export interface OwnKernelFlags {
  /** Recipe names from --kernel (already split), when given. */
  kernels?: string[];
  /** --tree DIR */
  tree?: string;
  /** The tree's kernel name (default: the folder's name). */
  name?: string;
  /** --config FILE|TARGET */
  config?: string;
  /** --config-add CONFIG_X=y|FILE, each */
  configAdd?: string[];
  /** --patch FILE|DIR each, and the NAME=PATH items of --variant */
  patches?: string[];
}

export interface OwnKernelChoice {
  /** The layer (its kexp-layer.json names the root below it). */
  root: string;
  /** The kernels the command is about: the tree's name, or the --kernel recipes (reconfigured). */
  kernels: string[];
  /** The variants the patches became, in the order given. */
  patchVariants: string[];
  /** With an ExperimentOverride: the experiment file written into the layer. */
  experiment?: string;
}

/** Whether any flag asks for a layer. */
export function wantsOwnKernel(flags: OwnKernelFlags): boolean {
  return Boolean(flags.tree || flags.config || flags.configAdd?.length || flags.patches?.length);
}

interface LayerFile {
  path: string;
  content: string;
}

/** The kernel name of a tree: its folder's name, made plain. Pure. */
export function treeKernelName(tree: string): string {
  return plainName(basename(resolve(tree)), 'tree');
}

/**
 * The layer for these flags on top of `root`, under `home` (a folder of the cache). Everything is
 * checked first (a folder that is not a kernel tree, a config that is not a .config, a patch file
 * with no patch in it, a name that clashes) so that nothing is written for bad input.
 */
export function ownKernelLayer(root: string, home: string, flags: OwnKernelFlags, experiment?: ExperimentOverride): OwnKernelChoice {
  const files: LayerFile[] = [];
  const recipes: RecipeFile[] = [];
  const base = flags.config !== undefined ? baseConfigOf(flags.config) : undefined;
  if (base?.file) files.push({ path: 'kernels/base.config', content: base.file.text });
  const adds = (flags.configAdd ?? []).map((item, i) => configAddOf(item, i));
  const addFragments = adds.map((add, i) => {
    const name = `config-add-${i + 1}`;
    files.push({ path: `kernels/fragments/${name}.config`, content: add });
    return name;
  });
  const config = base ? (base.file ? { file: 'base.config' } : base.target) : undefined;

  if (flags.tree !== undefined) {
    if (flags.kernels?.length)
      throw new InputError(
        `--tree ${flags.tree} and --kernel ${flags.kernels.join(',')}: one kernel source at a time`,
        'give --tree DIR for your tree, or --kernel NAME for a recipe',
      );
    const dir = resolve(flags.tree);
    const problem = kernelTreeProblem(dir);
    if (problem)
      throw new InputError(
        `--tree ${flags.tree}: ${problem}`,
        'give the top folder of a Linux source tree (the one whose Makefile says VERSION = and PATCHLEVEL =)',
      );
    const series = kernelSeriesOf(dir);
    const name = flags.name ?? treeKernelName(dir);
    recipes.push({
      name,
      description: `the tree ${dir} as it is on disk`,
      series,
      source: { type: 'tree', path: dir },
      fragments: [...addFragments, ...modelFragments(root, series)],
      ...(config !== undefined ? { config } : {}),
    });
  } else if (base || addFragments.length > 0) {
    const kernels = flags.kernels ?? [];
    if (kernels.length === 0) throw new InputError('--config and --config-add change a kernel: name it with --kernel NAME or --tree DIR');
    for (const kernel of kernels) {
      const recipe = loadRecipe(root, kernel);
      const original = JSON.parse(readFileSync(recipe.file, 'utf8')) as RecipeFile;
      recipes.push({
        ...original,
        $schema: undefined,
        description: `${original.description ?? kernel}, configured from the command line`,
        source: absoluteSource(original.source, dirname(recipe.file)),
        // The copy lives in the layer: a base .config relative to the original recipe must still point there.
        ...(original.config !== undefined && typeof original.config !== 'string'
          ? { config: { file: resolve(dirname(recipe.file), original.config.file) } }
          : {}),
        fragments: [...addFragments, ...original.fragments],
        ...(config !== undefined ? { config } : {}),
      });
    }
  }
  const kernels = recipes.length > 0 ? recipes.map((r) => r.name) : (flags.kernels ?? []);
  const seriesOf = (kernel: string): string => {
    const written = recipes.find((r) => r.name === kernel);
    return written ? (written.series ?? written.name) : loadRecipe(root, kernel).series;
  };
  const allSeries = [...new Set(kernels.map(seriesOf))];

  const known = new Set(listVariants(root));
  const patchVariants: string[] = [];
  for (const given of flags.patches ?? []) {
    const { name: named, path } = parseVariantArg(given);
    let patches: ReturnType<typeof readPatchInput>;
    try {
      patches = readPatchInput(path);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`--patch ${error.message}`, error.hint);
      throw error;
    }
    const name = named ?? variantNameFor(path, patches);
    if (known.has(name)) throw new InputError(`--patch ${path}: a variant "${name}" exists already`, `name the patch's variant: --variant NAME=${path}`);
    if (patchVariants.includes(name))
      throw new InputError(`--patch ${path}: two patches would both be the variant "${name}"`, `name one of them: --variant NAME=${path}`);
    patchVariants.push(name);
    if (allSeries.length === 0) throw new InputError(`--patch ${path}: which kernel does it patch?`, 'name it with --kernel NAME or --tree DIR');
    for (const series of allSeries) {
      for (const patch of patches) files.push({ path: `patches/${name}/${series}/${patch.name}`, content: patch.content });
      files.push({
        path: `patches/${name}/${series}/${ORIGINS_FILE}`,
        content: `${JSON.stringify(Object.fromEntries(patches.map((p) => [p.name, resolve(p.path)])), null, 2)}\n`,
      });
    }
  }
  for (const recipe of recipes) files.push({ path: `kernels/${recipe.name}.json`, content: `${JSON.stringify(recipe, null, 2)}\n` });
  let experimentFile: string | undefined;
  if (experiment) {
    const variants = experiment.variants.length + patchVariants.length > 0 ? [...new Set(['baseline', ...experiment.variants, ...patchVariants])] : undefined;
    const given = flags.tree !== undefined || (flags.kernels?.length ?? 0) > 0;
    const original = JSON.parse(experiment.text) as Record<string, unknown>;
    const name = plainName([String(original.name), ...(given ? kernels : []), ...(variants ?? [])].join('-'), 'experiment').slice(0, 80);
    const changed = { ...original, $schema: undefined, name, ...(given ? { kernels } : {}), ...(variants ? { variants } : {}) };
    experimentFile = `experiments/${name}.json`;
    files.push({ path: experimentFile, content: `${JSON.stringify(changed, null, 2)}\n` });
  }
  const layer = writeLayer(root, home, files);
  return { root: layer, kernels, patchVariants, ...(experimentFile ? { experiment: join(layer, experimentFile) } : {}) };
}

/** For kexp run: the experiment whose kernels and variants the command line replaces. */
export interface ExperimentOverride {
  /** The experiment file's text. */
  text: string;
  /** Variants named with --variant (besides patches): the run takes baseline, these, then the patches. */
  variants: string[];
}

/** The fragments kexp puts on a tree: those of the root's recipe of the same series, else of its newest. */
function modelFragments(root: string, series: string): string[] {
  return modelRecipe(root, series).fragments.map((f) => f.name);
}

/** kexp's fragment files for a kernel of this series (what a kernel built elsewhere must have too). */
export function kexpFragmentFiles(root: string, series?: string): string[] {
  return modelRecipe(root, series).fragments.map((f) => f.file);
}

function modelRecipe(root: string, series: string | undefined): KernelRecipe {
  const recipes = listKernelNames(root).flatMap((name) => {
    try {
      return [loadRecipe(root, name)];
    } catch {
      return [];
    }
  });
  const bySeries = (a: string, b: string): number => b.localeCompare(a, undefined, { numeric: true });
  const model = recipes.find((r) => r.series === series) ?? [...recipes].sort((a, b) => bySeries(a.series, b.series))[0];
  if (!model)
    throw new InputError("no kernel recipe to take kexp's configuration fragments from", "kexp's own kernels/ folder has them: is the installation complete?");
  return model;
}

function absoluteSource(source: RecipeFile['source'], dir: string): RecipeFile['source'] {
  if (source.type === 'git' || source.type === 'tree') return { ...source, path: isAbsolute(source.path) ? source.path : resolve(dir, source.path) };
  if (source.type === 'tarball' && !/^https?:\/\//.test(source.location))
    return { ...source, location: isAbsolute(source.location) ? source.location : resolve(dir, source.location) };
  return source;
}

/** --config FILE (a full .config) or a make target ending in config (defconfig, tinyconfig, ...). */
function baseConfigOf(given: string): { target?: string; file?: { path: string; text: string } } {
  if (existsSync(given) && statSync(given).isFile()) {
    const text = readFileSync(given, 'utf8');
    const problem = configFileProblem(text);
    if (problem)
      throw new InputError(
        `--config ${given}: ${problem}`,
        "give a full kernel .config (a build folder's .config, /boot/config-<version>) or a make target such as defconfig",
      );
    return { file: { path: resolve(given), text } };
  }
  if (BASE_CONFIG_TARGET.test(given)) return { target: given };
  throw new InputError(
    `--config ${given}: no such file, and not a make target that writes a whole .config`,
    'give a full kernel .config, or one of tinyconfig, defconfig, allnoconfig, alldefconfig, allyesconfig, allmodconfig, NAME_defconfig (a fragment such as kvm_guest.config goes in --config-add)',
  );
}

/** --config-add CONFIG_X=y (or X=y, CONFIG_X=n) or a fragment file: the fragment's text. */
function configAddOf(given: string, index: number): string {
  const flag = `--config-add ${given}`;
  const literal = /^(?:CONFIG_)?([A-Za-z0-9_]+)=(.*)$/.exec(given);
  let text: string;
  if (literal && !existsSync(given)) {
    const [, symbol, value] = literal;
    if (value === '') throw new InputError(`${flag}: no value`, 'CONFIG_X=y, CONFIG_X=m, CONFIG_X=n, CONFIG_X=123 or CONFIG_X="text"');
    text = value === 'n' ? `# CONFIG_${symbol} is not set\n` : `CONFIG_${symbol}=${value}\n`;
  } else if (existsSync(given) && statSync(given).isFile()) {
    text = readFileSync(given, 'utf8');
  } else {
    throw new InputError(`${flag}: not CONFIG_X=VALUE and no such file`, 'give CONFIG_X=y (repeatable) or a fragment file of such lines');
  }
  try {
    if (parseConfigText(text, `--config-add #${index + 1}`).length === 0) throw new FragmentSyntaxError(`${given}: no CONFIG_X= lines`);
  } catch (error) {
    if (error instanceof FragmentSyntaxError)
      throw new InputError(`${flag}: ${error.message}`, 'a fragment holds lines CONFIG_X=y or "# CONFIG_X is not set", and comments');
    throw error;
  }
  return `# --config-add ${given}\n${text}`;
}

function writeLayer(below: string, home: string, files: LayerFile[]): string {
  const layerFile = { path: LAYER_FILE, content: `${JSON.stringify({ below: resolve(below), generated: true }, null, 2)}\n` };
  const all = [layerFile, ...files].sort((a, b) => a.path.localeCompare(b.path));
  const dir = join(home, hashJson(all.map((f) => [f.path, f.content])).slice(0, 24));
  if (existsSync(join(dir, LAYER_FILE))) return dir;
  mkdirSync(home, { recursive: true });
  const tmp = `${dir}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  try {
    for (const file of all) {
      mkdirSync(dirname(join(tmp, file.path)), { recursive: true });
      writeFileSync(join(tmp, file.path), file.content);
    }
    try {
      if (!existsSync(dir)) renameSync(tmp, dir);
    } catch (error) {
      // Another kexp wrote the same layer meanwhile: it is the same content.
      if (!existsSync(join(dir, LAYER_FILE))) throw error;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
