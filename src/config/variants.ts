/**
 * Variants are folders: patches/<variant>/<series>/NNNN-*.patch. Nothing in src/ names one; a
 * variant with no folder for a series (or an empty one) applies no patch to that series.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { splitList } from '../core/list.js';
import { describeLayers, findInRoot, listInRoot } from './layers.js';

export interface PatchFile {
  /** File name, e.g. 0001-mm-gup-....patch */
  name: string;
  path: string;
  content: string;
  /** Where the patch came from when kexp copied it (--patch FILE): what messages name. */
  origin?: string;
}

/** In a series folder kexp wrote: patch file name → the file (or mail of an mbox, FILE#k) it was copied from. */
export const ORIGINS_FILE = 'origins.json';

export interface VariantSeries {
  variant: string;
  series: string;
  patches: PatchFile[];
}

/** A variant's folder: patches/<variant>/ of the first layer of the root that has one. */
export function variantDir(root: string, variant: string): string | undefined {
  return findInRoot(root, 'patches', variant);
}

/** The variants of a root: the folders patches/<variant>/ of all its layers. */
export function listVariants(root: string): string[] {
  return listInRoot(root, ['patches'], (name, dir) => statSync(join(dir, name)).isDirectory()).sort(variantOrder);
}

/** baseline first, then alphabetical: the order of table columns. */
function variantOrder(a: string, b: string): number {
  if (a === 'baseline') return -1;
  if (b === 'baseline') return 1;
  return a.localeCompare(b);
}

export function resolveVariantNames(root: string, requested: string): string[] {
  const known = listVariants(root);
  if (requested === 'all') return known;
  const names = splitList(requested);
  for (const name of names) {
    if (!known.includes(name)) {
      throw new InputError(
        `unknown variant "${name}"`,
        `known variants: ${known.join(', ') || '(none)'}; a variant is a folder patches/<variant>/<series>/ (looked in ${describeLayers(root, 'patches')}), or give a patch with --patch FILE`,
      );
    }
  }
  return names;
}

export function loadSeries(variantDir: string, variant: string, series: string): VariantSeries {
  const dir = join(variantDir, series);
  if (!existsSync(dir)) return { variant, series, patches: [] };
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.patch') || f.endsWith('.diff'))
    .sort();
  const misnamed = files.filter((f) => !/^\d{4}-/.test(f));
  if (misnamed.length > 0) {
    throw new InputError(`${dir}: patch file names must start with a 4-digit order, e.g. 0001-what-it-does.patch`, `rename: ${misnamed.join(', ')}`);
  }
  // A patch is read, hashed into keys and handed to git apply: a symlink would pull in whatever
  // it points at (another user's file, /dev/zero), so only regular files are patches.
  for (const name of files) {
    const path = join(dir, name);
    const kind = fileKind(path);
    if (kind !== 'regular file') {
      throw new InputError(
        `${path}: a patch must be a regular file, this is ${kind}`,
        kind === 'a symbolic link' ? 'copy the patch into the folder instead of linking to it' : 'remove it or replace it with the patch file',
      );
    }
  }
  const origins = readOrigins(join(dir, ORIGINS_FILE));
  return {
    variant,
    series,
    patches: files.map((name) => {
      const path = join(dir, name);
      return { name, path, content: readFileSync(path, 'utf8'), ...(origins[name] ? { origin: origins[name] } : {}) };
    }),
  };
}

function readOrigins(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return data && typeof data === 'object'
      ? (Object.fromEntries(Object.entries(data).filter(([, v]) => typeof v === 'string')) as Record<string, string>)
      : {};
  } catch {
    return {};
  }
}

function fileKind(path: string): string {
  const stat = lstatSync(path);
  if (stat.isFile()) return 'regular file';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  return 'a device file';
}

export function loadVariant(root: string, variant: string, series: string): VariantSeries {
  resolveVariantNames(root, variant);
  return loadSeries(variantDir(root, variant)!, variant, series);
}
