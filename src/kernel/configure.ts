/**
 * Resolve a kernel's .config: tinyconfig, the recipe's fragments on top, olddefconfig, then verify
 * that every symbol a fragment asked for has the value asked for. Runs in a scratch O= folder so
 * the real build folder's .config is only touched when its content changes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BuildError, InputError } from '../core/errors.js';
import { run } from '../core/proc.js';
import type { KernelRecipe } from '../config/recipe.js';
import {
  applyAssignments,
  configToMap,
  FragmentSyntaxError,
  findKconfigEntries,
  formatMismatches,
  mergeAssignments,
  parseConfigText,
  verifyConfig,
  type ConfigAssignment,
  type KconfigEntry,
} from './kconfig.js';

export function readRequestedConfig(recipe: KernelRecipe): Map<string, ConfigAssignment> {
  try {
    return mergeAssignments(recipe.fragments.map((f) => parseConfigText(readFileSync(f.file, 'utf8'), f.file)));
  } catch (error) {
    if (error instanceof FragmentSyntaxError) throw new InputError(error.message);
    throw error;
  }
}

export interface MakeContext {
  src: string;
  arch: string;
  cc: string;
  makeVariables: Record<string, string>;
  logFile: string;
  signal?: AbortSignal;
}

export function makeArgs(ctx: MakeContext, outDir: string, targets: string[], jobs?: number): string[] {
  const vars = Object.entries(ctx.makeVariables).map(([k, v]) => `${k}=${v}`);
  return ['-C', ctx.src, `O=${outDir}`, `ARCH=${ctx.arch}`, `CC=${ctx.cc}`, ...(jobs ? [`-j${jobs}`] : []), ...vars, ...targets];
}

export async function resolveConfig(ctx: MakeContext, scratch: string, requested: Map<string, ConfigAssignment>): Promise<string> {
  mkdirSync(scratch, { recursive: true });
  await run('make', makeArgs(ctx, scratch, ['tinyconfig']), { logFile: ctx.logFile, signal: ctx.signal });
  const configFile = join(scratch, '.config');
  writeFileSync(configFile, applyAssignments(readFileSync(configFile, 'utf8'), requested));
  await run('make', makeArgs(ctx, scratch, ['olddefconfig']), { logFile: ctx.logFile, signal: ctx.signal });
  const resolvedText = readFileSync(configFile, 'utf8');
  const resolved = configToMap(resolvedText);
  const mismatches = verifyConfig(requested, resolved);
  if (mismatches.length > 0) {
    const entries = new Map<string, KconfigEntry[]>();
    const kconfigFiles = listKconfigFiles(ctx.src).map((file) => ({ file: relative(ctx.src, file), text: readFileSync(file, 'utf8') }));
    for (const m of mismatches) entries.set(m.symbol, findKconfigEntries(m.symbol, kconfigFiles));
    throw new BuildError(
      `kernel configuration does not have what the fragments ask for (after olddefconfig):\n${formatMismatches(mismatches, entries, resolved)}`,
      ctx.logFile,
      'add the missing dependencies to a fragment in kernels/fragments/ (or drop the symbol if this kernel has no such option)',
    );
  }
  return resolvedText;
}

function listKconfigFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.startsWith('Kconfig')) out.push(path);
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}
