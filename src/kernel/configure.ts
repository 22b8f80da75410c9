/**
 * Resolve a kernel's .config: tinyconfig, the recipe's fragments on top, olddefconfig, then verify
 * that every symbol a fragment asked for has the value asked for. Runs in a scratch O= folder so
 * the real build folder's .config is only touched when its content changes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BuildError, InputError } from '../core/errors.js';
import { ProcessError, run } from '../core/proc.js';
import type { BaseConfig, KernelRecipe } from '../config/recipe.js';
import { sha256 } from '../core/hash.js';
import { FragmentSyntaxError, parseConfigText, type ConfigAssignment } from '../config/kconfig-fragment.js';
import { applyAssignments, configToMap, findKconfigEntries, formatMismatches, mergeAssignments, verifyConfig, type KconfigEntry } from './kconfig.js';

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
  /** make at the lowest CPU priority (configuring a tree ahead of its build, beside another build). */
  lowPriority?: boolean;
}

export function makeArgs(ctx: MakeContext, outDir: string, targets: string[], jobs?: number): string[] {
  const vars = Object.entries(ctx.makeVariables).map(([k, v]) => `${k}=${v}`);
  return ['-C', ctx.src, `O=${outDir}`, `ARCH=${ctx.arch}`, `CC=${ctx.cc}`, ...(jobs ? [`-j${jobs}`] : []), ...vars, ...targets];
}

/** Written in the scratch folder while its make runs: a make killed there may leave a half-linked conf program. */
const SCRATCH_IN_USE = '.kexp-kconfig-unfinished';

/**
 * The kernel's own make, in the config stage. Its failure says something about the source tree
 * (a tree that is not a kernel, a broken Kconfig, a host tool missing from the tree's needs), so
 * it is a BuildError (exit 2) naming the tree and what make said last, not a kexp bug.
 */
async function kconfigMake(ctx: MakeContext, scratch: string, target: string): Promise<void> {
  try {
    const args = makeArgs(ctx, scratch, [target]);
    await run(ctx.lowPriority ? 'nice' : 'make', ctx.lowPriority ? ['-n', '19', 'make', ...args] : args, {
      logFile: ctx.logFile,
      signal: ctx.signal,
      tailLines: 40,
    });
  } catch (error) {
    if (!(error instanceof ProcessError) || error.processExitCode === undefined) throw error;
    throw new BuildError(
      `make ${target} failed in the kernel source tree ${ctx.src} (exit ${error.processExitCode}):\n${makeFailureLines(error.tail)
        .map((l) => `  | ${l}`)
        .join('\n')}`,
      ctx.logFile,
      `full log: ${ctx.logFile}; is ${ctx.src} a complete kernel source tree with its host tools (flex, bison, gcc, make)?`,
    );
  }
}

/** The last lines of make's output worth showing: from the first error on, else the tail. Pure. */
export function makeFailureLines(tail: readonly string[], max = 15): string[] {
  const first = tail.findIndex((l) => /\berror\b|\*\*\*|No rule to make target|not found/i.test(l));
  const lines = first >= 0 ? tail.slice(first) : tail;
  return lines.slice(-max);
}

/** The base as the keys see it: undefined for tinyconfig (the keys of plain recipes stay as they were). */
export function baseConfigKey(base: BaseConfig): string | undefined {
  if (base.kind === 'file') return `file:${sha256(base.text)}`;
  return base.target === 'tinyconfig' ? undefined : base.target;
}

export async function resolveConfig(
  ctx: MakeContext,
  scratch: string,
  requested: Map<string, ConfigAssignment>,
  base: BaseConfig = { kind: 'target', target: 'tinyconfig' },
): Promise<string> {
  // The scratch folder holds nothing worth keeping but kconfig's host programs (seconds to
  // build): after a make killed there, start it over rather than trust a half-written conf.
  if (existsSync(join(scratch, SCRATCH_IN_USE))) rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  writeFileSync(join(scratch, SCRATCH_IN_USE), `${process.pid}\n`);
  const configFile = join(scratch, '.config');
  if (base.kind === 'file') {
    // A full .config as the base: the fragments go on top, olddefconfig fills in what it lacks.
    writeFileSync(configFile, base.text);
  } else {
    rmSync(configFile, { force: true });
    await kconfigMake(ctx, scratch, base.target);
    if (!existsSync(configFile)) {
      throw new BuildError(
        `make ${base.target} in the kernel source tree ${ctx.src} wrote no ${configFile}`,
        ctx.logFile,
        `full log: ${ctx.logFile}; is ${ctx.src} a kernel source tree?`,
      );
    }
  }
  writeFileSync(configFile, applyAssignments(readFileSync(configFile, 'utf8'), requested));
  await kconfigMake(ctx, scratch, 'olddefconfig');
  rmSync(join(scratch, SCRATCH_IN_USE), { force: true });
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
