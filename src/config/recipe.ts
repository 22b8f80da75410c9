/** Kernel recipes: one JSON file per kernel in kernels/, naming the source and the fragments. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { EnvironmentError, InputError } from '../core/errors.js';
import { parseJsonFile } from './issues.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

export const sourceSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('debian-package'),
    /** A linux-source-X.Y package; it installs /usr/src/<package>.tar.xz. */
    package: z.string().regex(/^linux-source-[\d.]+$/, 'expected a package name like linux-source-6.1'),
  }).strict(),
  z.object({
    type: z.literal('tarball'),
    /** A local path (relative to the recipe) or an http(s) URL of a kernel.org-style tarball. */
    location: z.string().min(1),
    sha256: sha256Hex,
  }).strict(),
  z.object({
    type: z.literal('git'),
    /** A local git tree. */
    path: z.string().min(1),
    ref: z.string().min(1),
  }).strict(),
]);

export const recipeSchema = z.object({
  $schema: z.string().optional(),
  name: z.string().regex(/^[\w.-]+$/, 'expected letters, digits, dot, dash or underscore'),
  description: z.string().optional(),
  /** Which patches/<variant>/<series>/ folder applies; defaults to the name. */
  series: z.string().regex(/^[\w.-]+$/).optional(),
  source: sourceSchema,
  /** Kconfig fragments from kernels/fragments/, applied in order on top of tinyconfig. */
  fragments: z.array(z.string().regex(/^[\w.-]+$/)).min(1),
  /** Extra make variables, e.g. { "KCFLAGS": "-g" }. */
  makeVariables: z.record(z.string(), z.string()).optional(),
}).strict();

export type KernelSource = z.infer<typeof sourceSchema>;
export type RecipeFile = z.infer<typeof recipeSchema>;

export interface KernelRecipe {
  name: string;
  series: string;
  source: KernelSource;
  fragments: { name: string; file: string }[];
  makeVariables: Record<string, string>;
  /** The file it was read from. */
  file: string;
}

export function recipeDir(root: string): string {
  return join(root, 'kernels');
}

/** A kernel is named, never given as a path: the name of a recipe file kernels/<name>.json. */
const KERNEL_NAME = /^(?!\.)[\w.-]+$/;

export function listKernelNames(root: string): string[] {
  const dir = recipeDir(root);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .filter((name) => KERNEL_NAME.test(name))
    .sort();
}

export function parseRecipe(file: string, text: string, fragmentsDir: string): KernelRecipe {
  const recipe = parseJsonFile(file, text, recipeSchema);
  const expectedName = basename(file, '.json');
  if (recipe.name !== expectedName) {
    throw new InputError(`${file}: name: expected "${expectedName}" (the file's name), found "${recipe.name}"`);
  }
  const fragments = recipe.fragments.map((name, index) => {
    const fragmentFile = join(fragmentsDir, `${name}.config`);
    if (!existsSync(fragmentFile)) {
      const known = existsSync(fragmentsDir) ? readdirSync(fragmentsDir).filter((f) => f.endsWith('.config')).map((f) => basename(f, '.config')) : [];
      throw new InputError(`${file}: fragments.${index}: no fragment "${name}" in ${fragmentsDir}`, `known fragments: ${known.join(', ') || '(none)'}`);
    }
    return { name, file: fragmentFile };
  });
  return {
    name: recipe.name,
    series: recipe.series ?? recipe.name,
    source: recipe.source,
    fragments,
    makeVariables: recipe.makeVariables ?? {},
    file,
  };
}

export function loadRecipe(root: string, name: string): KernelRecipe {
  const known = (): string => `known kernels: ${listKernelNames(root).join(', ') || '(none)'}; a kernel is a recipe file kernels/<name>.json, named without the folder or .json`;
  if (!KERNEL_NAME.test(name)) {
    throw new InputError(`kernel "${name}": not a kernel name (letters, digits, dot, dash, underscore; no slash, not starting with a dot)`, `${known()}; a recipe of your own goes in kernels/ of a folder given with --root`);
  }
  const file = join(recipeDir(root), `${name}.json`);
  if (!existsSync(file)) throw new InputError(`unknown kernel "${name}"`, known());
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new EnvironmentError(`${file}: cannot be read (permission denied)`, 'check the file\'s owner and mode');
    throw new InputError(`${file}: cannot be read (${(error as Error).message})`, 'a kernel recipe is a JSON file');
  }
  return parseRecipe(file, text, join(recipeDir(root), 'fragments'));
}
