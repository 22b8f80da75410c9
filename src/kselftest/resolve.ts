/**
 * TARGET:TEST against the very source a kernel was built from: the folders of
 * tools/testing/selftests and the programs their Makefiles list, read from the tree's pristine
 * commit (`git show`), so that it needs no lock and works while a build has the tree patched.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { capture } from '../core/proc.js';
import type { CacheLayout } from '../core/paths.js';
import type { KernelArtifact } from '../kernel/build.js';
import { loadRecipe } from '../config/recipe.js';
import { identifySource } from '../kernel/source.js';
import { kselftestLabel, type KselftestSpec } from '../config/kselftest.js';
import { describeKnown, matchProgram, parseMakefileLists, targetCandidates } from './spec.js';

export const SELFTESTS = 'tools/testing/selftests';

export interface ResolvedKselftest {
  spec: KselftestSpec;
  /** "mm:madv_populate" as the user named it. */
  label: string;
  /** The folder under tools/testing/selftests that has it: "vm" in 6.1, "mm" later. */
  dir: string;
  /** The program as its Makefile lists it: "madv_populate", "x86_64/xapic_state_test". */
  program: string;
}

/** The tree a kernel artifact was built in, and the commit that holds its pristine source. */
export interface PristineTree {
  src: string;
  /** "HEAD" for an extracted tarball (patches are never committed), the commit for a git source. */
  ref: string;
  /** For messages: "6.12". */
  kernel: string;
}

export function pristineTree(kernel: KernelArtifact, layout: CacheLayout): PristineTree {
  const src = join(layout.work, kernel.record.source.treeId, 'src');
  const commit = /^git-([0-9a-f]{40})$/.exec(kernel.record.source.sourceId)?.[1];
  return { src, ref: commit ?? 'HEAD', kernel: kernel.kernel };
}

export function treeReady(tree: PristineTree): boolean {
  return existsSync(join(tree.src, '.git'));
}

/** What resolving needs of a kernel's source: its selftest folders, and their Makefiles. */
export interface SelftestSource {
  kernel: string;
  /** Folders of tools/testing/selftests that have a Makefile. */
  targets(): Promise<string[]>;
  /** A file of tools/testing/selftests/<dir>/, or undefined. */
  read(dir: string, file: string): Promise<string | undefined>;
}

/** A git tree (kexp's working copy, or a recipe's repository) at its pristine commit. */
export function gitSource(tree: PristineTree): SelftestSource {
  let targets: Promise<string[]> | undefined;
  return {
    kernel: tree.kernel,
    targets: () => {
      targets ??= capture('git', ['-C', tree.src, 'ls-tree', '-r', '--name-only', tree.ref, '--', SELFTESTS])
        .catch(() => '')
        .then((out) => {
          const dirs = new Set<string>();
          for (const path of out.split('\n')) {
            const m = new RegExp(`^${SELFTESTS}/([^/]+)/Makefile$`).exec(path);
            if (m) dirs.add(m[1]!);
          }
          return [...dirs].sort();
        });
      return targets;
    },
    read: (dir, file) => capture('git', ['-C', tree.src, 'show', `${tree.ref}:${SELFTESTS}/${dir}/${file}`]).catch(() => undefined),
  };
}

/**
 * A kernel tarball not extracted yet: one pass over it keeps the selftest folders' Makefiles
 * (a cold cache only; the build extracts the whole tree afterwards).
 */
export async function tarballSource(tarball: string, kernel: string, signal?: AbortSignal): Promise<SelftestSource> {
  const files = new Map<string, string>();
  const tar = await import('tar');
  const { execa } = await import('execa');
  const { pipeline } = await import('node:stream/promises');
  const wanted = new RegExp(`^[^/]+/${SELFTESTS}/([^/]+)/(Makefile[\\w.-]*|[\\w.-]+\\.mk)$`);
  const parser = new tar.Parser({
    filter: (path) => wanted.test(path),
    onReadEntry: (entry) => {
      const m = wanted.exec(entry.path)!;
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => files.set(`${m[1]}/${m[2]}`, Buffer.concat(chunks).toString('utf8')));
    },
  });
  if (/\.(xz|txz)$/.test(tarball)) {
    const xz = execa('xz', ['-dc', '-T0', tarball], { buffer: false, stdout: 'pipe', ...(signal ? { cancelSignal: signal } : {}) });
    await Promise.all([pipeline(xz.stdout!, parser), xz]);
  } else {
    const { createReadStream } = await import('node:fs');
    const { createGunzip } = await import('node:zlib');
    if (/\.(gz|tgz)$/.test(tarball)) await pipeline(createReadStream(tarball), createGunzip(), parser);
    else await pipeline(createReadStream(tarball), parser);
  }
  const targets = [...new Set([...files.keys()].filter((k) => k.endsWith('/Makefile')).map((k) => k.split('/')[0]!))].sort();
  return { kernel, targets: async () => targets, read: async (dir, file) => files.get(`${dir}/${file}`) };
}

/** The programs one folder's Makefile (and the plain files it includes) lists. */
export async function listPrograms(source: SelftestSource, dir: string): Promise<string[]> {
  const programs: string[] = [];
  const seen = new Set<string>();
  const queue = ['Makefile'];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await source.read(dir, file);
    if (text === undefined) continue;
    const lists = parseMakefileLists(text);
    for (const p of lists.programs) if (!programs.includes(p)) programs.push(p);
    queue.push(...lists.includes);
  }
  return programs;
}

/** Each spec against the source, or an InputError naming the targets or tests this kernel has. */
export async function resolveKselftests(source: SelftestSource, specs: KselftestSpec[]): Promise<ResolvedKselftest[]> {
  const top = await source.targets();
  if (top.length === 0)
    throw new InputError(
      `kernel ${source.kernel}: its source has no ${SELFTESTS} folder with a Makefile`,
      "the kselftests come from the kernel's own source tree",
    );
  const programsOf = new Map<string, Promise<string[]>>();
  const programs = (dir: string): Promise<string[]> => {
    if (!programsOf.has(dir)) programsOf.set(dir, listPrograms(source, dir));
    return programsOf.get(dir)!;
  };
  const resolved: ResolvedKselftest[] = [];
  for (const spec of specs) {
    const label = kselftestLabel(spec);
    const dir = targetCandidates(spec.target).find((d) => top.includes(d));
    if (!dir) {
      throw new InputError(
        `kselftest ${label}: kernel ${source.kernel} has no selftest target "${spec.target}" (${SELFTESTS}/${spec.target})`,
        `known targets for ${source.kernel}: ${describeKnown(top, 200)}`,
      );
    }
    const known = await programs(dir);
    const program = matchProgram(spec.test, known);
    if (!program) {
      const where = dir === spec.target ? dir : `${spec.target} (the folder is ${dir} in this kernel)`;
      throw new InputError(
        `kselftest ${label}: kernel ${source.kernel} has no test "${spec.test}" in ${where}`,
        `known ${spec.target} tests for ${source.kernel}: ${describeKnown(known, 200)}`,
      );
    }
    resolved.push({ spec, label, dir, program });
  }
  return resolved;
}

/**
 * Before anything is built or booted: every named kselftest against every kernel's source (its
 * working copy when kexp has one, else its git repository or tarball), so that a wrong name is an
 * input error (exit 2) naming the ones that kernel has.
 */
export async function preflightKselftests(root: string, layout: CacheLayout, kernels: string[], specs: KselftestSpec[], signal?: AbortSignal): Promise<void> {
  if (specs.length === 0) return;
  for (const kernel of kernels) {
    const recipe = loadRecipe(root, kernel);
    const identity = await identifySource(recipe, layout);
    const tree: PristineTree = { src: join(layout.work, identity.treeId, 'src'), ref: identity.commit ?? 'HEAD', kernel };
    let source: SelftestSource;
    if (treeReady(tree)) source = gitSource(tree);
    else if (identity.gitRepo && identity.commit) source = gitSource({ src: identity.gitRepo, ref: identity.commit, kernel });
    else if (identity.tarball) source = await tarballSource(identity.tarball, kernel, signal);
    else continue;
    await resolveKselftests(source, specs);
  }
}
