/** Kernel recipes: one JSON file per kernel in kernels/, naming the source and the fragments. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { EnvironmentError, InputError } from '../core/errors.js';
import { parseJsonFile } from './issues.js';
import { describeLayers, findInRoot, foldersInRoot, listInRoot } from './layers.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

export const sourceSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('debian-package'),
      /** A linux-source-X.Y package; it installs /usr/src/<package>.tar.xz. */
      package: z.string().regex(/^linux-source-[\d.]+$/, 'expected a package name like linux-source-6.1'),
    })
    .strict(),
  z
    .object({
      type: z.literal('tarball'),
      /** A local path (relative to the recipe) or an http(s) URL of a kernel.org-style tarball. */
      location: z.string().min(1),
      sha256: sha256Hex,
    })
    .strict(),
  z
    .object({
      type: z.literal('git'),
      /** A local git tree. */
      path: z.string().min(1),
      ref: z.string().min(1),
    })
    .strict(),
  z
    .object({
      type: z.literal('tree'),
      /**
       * A kernel source folder (absolute, or relative to the recipe), taken as it is on disk:
       * uncommitted changes and untracked files included, what its .gitignore files ignore left out.
       */
      path: z.string().min(1),
    })
    .strict(),
]);

/** make targets that write a whole .config, without asking (menuconfig, oldconfig and the like would wait for a person). */
export const BASE_CONFIG_TARGET = /^(tinyconfig|defconfig|allnoconfig|alldefconfig|allyesconfig|allmodconfig|[\w.-]+_defconfig)$/;

/** What the configuration starts from before the fragments go on top: tinyconfig (the default), a make target, or a full .config. */
export const baseConfigSchema = z.union([
  z
    .string()
    .regex(
      BASE_CONFIG_TARGET,
      'a make target that writes a whole .config: tinyconfig, defconfig, allnoconfig, alldefconfig, allyesconfig, allmodconfig or NAME_defconfig (a fragment target such as kvm_guest.config goes in "fragments"), or {"file": PATH}',
    ),
  z
    .object({
      /** A full .config (absolute, or relative to the recipe). */
      file: z.string().min(1),
    })
    .strict(),
]);

export const recipeSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[\w.-]+$/, 'expected letters, digits, dot, dash or underscore'),
    description: z.string().optional(),
    /** Which patches/<variant>/<series>/ folder applies; defaults to the name. */
    series: z
      .string()
      .regex(/^[\w.-]+$/)
      .optional(),
    source: sourceSchema,
    /** Kconfig fragments from kernels/fragments/, applied in order on top of tinyconfig. */
    fragments: z.array(z.string().regex(/^[\w.-]+$/)).min(1),
    /** The configuration's base before the fragments: "tinyconfig" (default), "defconfig" or another make target, or {"file": ".config"}. */
    config: baseConfigSchema.optional(),
    /** Extra make variables, e.g. { "KCFLAGS": "-g" }. */
    makeVariables: z.record(z.string(), z.string()).optional(),
  })
  .strict();

/** The base a recipe's configuration starts from. */
export type BaseConfig = { kind: 'target'; target: string } | { kind: 'file'; file: string; text: string };

/** Where a recipe's kernel source comes from: a Debian linux-source package, a tarball, a git ref or a folder. */
export type RecipeSource = z.infer<typeof sourceSchema>;
export type RecipeFile = z.infer<typeof recipeSchema>;

export interface KernelRecipe {
  name: string;
  series: string;
  source: RecipeSource;
  fragments: { name: string; file: string }[];
  /** The configuration's base: make tinyconfig unless this says otherwise. */
  baseConfig: BaseConfig;
  makeVariables: Record<string, string>;
  /** The file it was read from. */
  file: string;
}

/** A name made from any text (a folder's name, a kernel release): letters, digits, dot, dash, underscore. Pure. */
export function plainName(text: string, fallback: string): string {
  return text.replace(/[^\w.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || fallback;
}

/** A kernel is named, never given as a path: the name of a recipe file kernels/<name>.json. */
const KERNEL_NAME = /^(?!\.)[\w.-]+$/;

/** The kernels of a root: kernels/<name>.json in any of its layers. */
export function listKernelNames(root: string): string[] {
  return listInRoot(root, ['kernels'], (f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .filter((name) => KERNEL_NAME.test(name))
    .sort();
}

/** A recipe's fragments are looked up in these folders in order (a root's layers: its own first). */
export function parseRecipe(file: string, text: string, fragmentsDirs: string | string[]): KernelRecipe {
  const dirs = typeof fragmentsDirs === 'string' ? [fragmentsDirs] : fragmentsDirs;
  const recipe = parseJsonFile(file, text, recipeSchema);
  const expectedName = basename(file, '.json');
  if (recipe.name !== expectedName) {
    throw new InputError(`${file}: name: expected "${expectedName}" (the file's name), found "${recipe.name}"`);
  }
  const fragments = recipe.fragments.map((name, index) => {
    const fragmentFile = dirs.map((dir) => join(dir, `${name}.config`)).find((f) => existsSync(f));
    if (!fragmentFile) {
      const known = [
        ...new Set(
          dirs
            .filter((dir) => existsSync(dir))
            .flatMap((dir) =>
              readdirSync(dir)
                .filter((f) => f.endsWith('.config'))
                .map((f) => basename(f, '.config')),
            ),
        ),
      ].sort();
      throw new InputError(`${file}: fragments.${index}: no fragment "${name}" in ${dirs.join(' or ')}`, `known fragments: ${known.join(', ') || '(none)'}`);
    }
    return { name, file: fragmentFile };
  });
  return {
    name: recipe.name,
    series: recipe.series ?? recipe.name,
    source: recipe.source,
    fragments,
    baseConfig: readBaseConfig(file, recipe.config),
    makeVariables: recipe.makeVariables ?? {},
    file,
  };
}

function readBaseConfig(recipeFile: string, config: RecipeFile['config']): BaseConfig {
  if (config === undefined) return { kind: 'target', target: 'tinyconfig' };
  if (typeof config === 'string') return { kind: 'target', target: config };
  const file = resolve(dirname(recipeFile), config.file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(
      `${recipeFile}: config.file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      'give the path of a full kernel .config',
    );
  }
  const problem = configFileProblem(text);
  if (problem)
    throw new InputError(
      `${recipeFile}: config.file: ${file} ${problem}`,
      'give a full kernel .config (the .config of a build folder, or /boot/config-<version>), or a make target such as "defconfig"',
    );
  return { kind: 'file', file, text };
}

/** Why a text is not a kernel .config, or undefined. Pure. */
export function configFileProblem(text: string): string | undefined {
  if (text.length === 0) return 'is empty';
  if (text.includes('\0')) return 'is not text (a binary file?)';
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const settings = lines.filter((l) => /^CONFIG_\w+=/.test(l) || /^# CONFIG_\w+ is not set/.test(l));
  if (settings.length === 0) return 'has no CONFIG_X=... lines: it is not a kernel .config';
  const stray = lines.find((l) => !l.startsWith('#') && !/^CONFIG_\w+=/.test(l));
  if (stray) return `has a line that is not a .config setting: "${stray.slice(0, 80)}"`;
  return undefined;
}

export function loadRecipe(root: string, name: string): KernelRecipe {
  const known = (): string =>
    `known kernels: ${listKernelNames(root).join(', ') || '(none)'}; a kernel is a recipe file kernels/<name>.json, named without the folder or .json`;
  if (!KERNEL_NAME.test(name)) {
    throw new InputError(
      `kernel "${name}": not a kernel name (letters, digits, dot, dash, underscore; no slash, not starting with a dot)`,
      `${known()}; a recipe of your own goes in kernels/ of a folder given with --root`,
    );
  }
  const file = findInRoot(root, 'kernels', `${name}.json`);
  if (!file) throw new InputError(`unknown kernel "${name}" (looked in ${describeLayers(root, 'kernels')})`, known());
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new EnvironmentError(`${file}: cannot be read (permission denied)`, "check the file's owner and mode");
    throw new InputError(`${file}: cannot be read (${(error as Error).message})`, 'a kernel recipe is a JSON file');
  }
  return parseRecipe(file, text, foldersInRoot(root, 'kernels', 'fragments'));
}
