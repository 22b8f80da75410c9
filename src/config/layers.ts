/**
 * A project root is layered. kexp's own folder (kernels/, kernels/fragments/, patches/,
 * images/agent/, images/workloads/, experiments/) is always the bottom layer; a folder given with
 * --root or $KEXP_ROOT goes on top of it, and adds to it or overrides it, entry by entry: a
 * kernels/6.12.json there replaces the packaged 6.12 recipe, a patches/mine/ folder adds a
 * variant, an experiments/default.json replaces the default experiment; everything it does not
 * have is still found below. A layer may name the one below it in a kexp-layer.json
 * ({"below": "/path"}): kexp writes such a layer for a tree, a patch or a config given on the
 * command line, on top of whichever root the command had.
 *
 * Lookups name a path inside the root ("kernels", "6.12.json"); the first layer that has it wins.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';

export const LAYER_FILE = 'kexp-layer.json';

const chains = new Map<string, string[]>();

function canonical(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/** The folders a root stands for, top first, kexp's own last. */
export function rootLayers(root: string): string[] {
  const memo = chains.get(root);
  if (memo) return memo;
  const layers: string[] = [];
  const seen = new Set<string>();
  let dir: string | undefined = resolve(root);
  while (dir !== undefined && !seen.has(canonical(dir))) {
    seen.add(canonical(dir));
    layers.push(dir);
    dir = belowOf(dir);
  }
  const bottom = packageRoot();
  if (!seen.has(canonical(bottom))) layers.push(bottom);
  chains.set(root, layers);
  return layers;
}

function belowOf(dir: string): string | undefined {
  const file = join(dir, LAYER_FILE);
  if (!existsSync(file)) return undefined;
  let below: unknown;
  try {
    below = (JSON.parse(readFileSync(file, 'utf8')) as { below?: unknown }).below;
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message})`, 'a layer file is {"below": "/the/root/under/it"}');
  }
  if (below === undefined) return undefined;
  if (typeof below !== 'string' || below === '')
    throw new InputError(`${file}: below: expected the path of a folder`, 'a layer file is {"below": "/the/root/under/it"}');
  const path = resolve(dir, below);
  // A typo (or a root deleted since) would otherwise leave that layer out without a word.
  if (!existsSync(path) || !statSync(path).isDirectory())
    throw new InputError(`${file}: below: ${path} is not a folder`, 'name the root folder this layer goes on top of, or remove the layer');
  return path;
}

/** Whether kexp wrote this layer (for a tree, a patch, a config given on the command line). */
export function isGeneratedLayer(dir: string): boolean {
  const file = join(dir, LAYER_FILE);
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { generated?: unknown }).generated === true;
  } catch {
    return false;
  }
}

/** The folder a person chose as the root: the top layer kexp did not write itself. */
export function projectFolder(root: string): string {
  return rootLayers(root).find((layer) => !isGeneratedLayer(layer)) ?? packageRoot();
}

/** The first layer's copy of a path inside the root, or undefined. */
export function findInRoot(root: string, ...path: string[]): string | undefined {
  for (const layer of rootLayers(root)) {
    const file = join(layer, ...path);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Every layer's copy of a folder inside the root, top first (those that exist). */
export function foldersInRoot(root: string, ...path: string[]): string[] {
  return rootLayers(root)
    .map((layer) => join(layer, ...path))
    .filter((dir) => existsSync(dir));
}

/** The entries of a folder across the layers (names, each once), filtered. */
export function listInRoot(root: string, path: string[], keep: (name: string, dir: string) => boolean): string[] {
  const names = new Set<string>();
  for (const dir of foldersInRoot(root, ...path)) {
    for (const name of readdirSync(dir)) if (keep(name, dir)) names.add(name);
  }
  return [...names];
}

/** For a message: where a root's layers are, "A over B". */
export function describeLayers(root: string, ...path: string[]): string {
  return rootLayers(root)
    .map((layer) => join(layer, ...path))
    .join(', then ');
}
