import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { EnvironmentError } from '../core/errors.js';
import { run } from '../core/proc.js';
import { which } from '../core/toolchain.js';
import { listKernelNames, loadRecipe } from '../config/recipe.js';
import { baseChecks, formatReport, installCommand, isStaticElf, missingPackages, sourcePackageChecks, type Check, type CheckResult } from './checks.js';

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const n = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function runCheck(check: Check): CheckResult {
  const probe = check.probe;
  switch (probe.type) {
    case 'command': {
      const found = which(probe.command);
      return { check, ok: found !== undefined, detail: found ?? 'not found on PATH' };
    }
    case 'file':
      return { check, ok: existsSync(probe.path), detail: existsSync(probe.path) ? probe.path : `${probe.path} is missing` };
    case 'static-elf': {
      if (!existsSync(probe.path)) return { check, ok: false, detail: `${probe.path} is missing` };
      const isStatic = isStaticElf(readHead(probe.path, 4096));
      if (isStatic === true) return { check, ok: true, detail: `${probe.path} (static)` };
      return { check, ok: false, detail: `${probe.path} is ${isStatic === false ? 'dynamically linked' : 'not a 64-bit ELF'}; the guest needs a static one` };
    }
  }
}

export function hostChecks(root: string): Check[] {
  const packages: string[] = [];
  for (const name of listKernelNames(root)) {
    try {
      const recipe = loadRecipe(root, name);
      if (recipe.source.type === 'debian-package') packages.push(recipe.source.package);
    } catch {
      // a broken recipe is reported by the command that uses it
    }
  }
  return [...baseChecks(), ...sourcePackageChecks(packages)];
}

export function checkHost(root: string): CheckResult[] {
  return hostChecks(root).map(runCheck);
}

/**
 * What `kexp run`, `build`, `boot`, `image` and the tests call. As root, missing Debian packages
 * are installed on the spot (a fresh machine needs no manual step); otherwise it fails early,
 * naming what is missing and the command that installs it.
 */
export async function ensureHost(root: string, options: { install?: boolean; onInstall?: (packages: string[]) => void } = {}): Promise<void> {
  let results = checkHost(root);
  let missing = missingPackages(results);
  if (missing.length > 0 && (options.install ?? true) && process.getuid?.() === 0) {
    options.onInstall?.(missing);
    await installPackages(missing);
    results = checkHost(root);
    missing = missingPackages(results);
  }
  if (missing.length > 0) {
    throw new EnvironmentError(
      `this host lacks what kexp needs:\n${formatReport(results.filter((r) => !r.ok))}`,
      `run as root: kexp doctor --fix   (or: ${installCommand(missing)})`,
    );
  }
}

export async function installPackages(packages: string[], onLine?: (line: string) => void): Promise<void> {
  if (packages.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError(`installing Debian packages needs root`, `run: sudo ${installCommand(packages)}`);
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-q'], { env, onLine: (l) => onLine?.(l) });
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], { env, onLine: (l) => onLine?.(l) });
}
