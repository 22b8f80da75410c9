/**
 * The source a kernel artifact was built from, as explain needs it: the files its patches changed
 * (and the flag headers and mm/gup.c, kept since explain came) are in the artifact's source/
 * folder; everything else is the pristine tree, HEAD of the long-lived working copy. Then the
 * definitions explain reads: a function's parameters, the FOLL_* flags.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError, InputError } from '../core/errors.js';
import { capture } from '../core/proc.js';
import type { CacheLayout } from '../core/paths.js';
import type { KernelArtifact } from '../kernel/build.js';
import { treePaths } from '../kernel/source.js';
import { findDefinition, parseFlagDefinitions, type CFunction, type FlagTable } from './cdecl.js';
import { explainProbe, type ExplainProbe } from './probes.js';

/** Where flags are defined, in any version: a #define or an enum member of FOLL_*. */
const FLAG_DEFINITION = '^\\s*(#\\s*define\\s+FOLL_[A-Z0-9_]+\\s|FOLL_[A-Z0-9_]+\\s*=)';

/** Files a kernel artifact keeps besides what its patches touched (paths in the source tree). */
export async function keptSourceFiles(srcDir: string): Promise<string[]> {
  const flagFiles = await capture('git', ['-C', srcDir, 'grep', '-l', '-E', FLAG_DEFINITION, '--', 'include', 'mm']).catch(() => '');
  return [...new Set(['mm/gup.c', ...flagFiles.split('\n').filter(Boolean)])].filter((f) => existsSync(join(srcDir, f)));
}

const greps = new Map<string, Promise<string[]>>();

/** Reads a built kernel's source files: the artifact's kept copies, else its pristine tree's. */
export class KernelSourceReader {
  private readonly tree: string;
  constructor(
    private readonly kernel: KernelArtifact,
    layout: CacheLayout,
  ) {
    this.tree = treePaths(layout, kernel.record.source).src;
  }

  private get hasTree(): boolean {
    return existsSync(join(this.tree, '.git'));
  }

  /** The file as built: the artifact's copy, else the pristine tree's. */
  async read(path: string): Promise<string | undefined> {
    const kept = join(this.kernel.dir, 'source', path);
    if (existsSync(kept)) return readFileSync(kept, 'utf8');
    if (!this.hasTree) return undefined;
    return capture('git', ['-C', this.tree, 'show', `HEAD:${path}`]).catch(() => undefined);
  }

  /** Files of the pristine tree matching the pattern: a scan of every file (26 s for '*.c' on 2 busy cores), once per tree and pattern in a process. */
  private grep(pattern: string, paths: string[]): Promise<string[]> {
    if (!this.hasTree) return Promise.resolve([]);
    const memoKey = JSON.stringify([this.tree, pattern, paths]);
    let found = greps.get(memoKey);
    if (!found) {
      found = capture('git', ['-C', this.tree, 'grep', '-l', '-E', pattern, 'HEAD', '--', ...paths])
        .catch(() => '')
        .then((out) =>
          out
            .split('\n')
            .filter(Boolean)
            .map((l) => l.replace(/^HEAD:/, '')),
        );
      greps.set(memoKey, found);
    }
    return found;
  }

  private missing(what: string): never {
    throw new EnvironmentError(
      `${what}: the kernel ${this.kernel.kernel}/${this.kernel.variant} (${this.kernel.key.slice(0, 12)}) keeps no copy and its source tree ${this.tree} is gone`,
      `rebuild it so the artifact keeps its sources: kexp build --kernel ${this.kernel.kernel} --variant ${this.kernel.variant}`,
    );
  }

  async definition(fn: string): Promise<CFunction> {
    const name = fn.replace(/[.].*$/, '');
    // mm/gup.c and the other files the artifact keeps first; the whole tree only for the rest.
    const near = ['mm/gup.c', ...this.keptFiles().filter((f) => f.endsWith('.c'))];
    let readAny = false;
    const lookIn = async (files: string[]): Promise<CFunction | undefined> => {
      for (const file of files) {
        const text = await this.read(file);
        if (text === undefined) continue;
        readAny = true;
        const def = findDefinition(text, name, file);
        if (def) return { ...def, name: fn };
      }
      return undefined;
    };
    const def = (await lookIn([...new Set(near)])) ?? (await lookIn((await this.grep(`^[A-Za-z_].*[ *]${name}\\(`, ['*.c'])).filter((f) => !near.includes(f))));
    if (def) return def;
    if (!readAny) this.missing(`the definition of ${fn}`);
    throw new InputError(
      `${fn}: no definition found in the source of ${this.kernel.kernel}/${this.kernel.variant}`,
      'name a function defined in C in this kernel (kexp explain --function)',
    );
  }

  async flags(): Promise<FlagTable> {
    // The artifact names the files it kept for this (since explain came); older ones, the tree.
    const kept = this.keptFiles();
    const files = kept.length > 0 ? kept : await this.grep(FLAG_DEFINITION, ['include', 'mm']);
    const texts: { path: string; text: string }[] = [];
    for (const path of files) {
      const text = await this.read(path);
      if (text !== undefined) texts.push({ path, text });
    }
    if (texts.length === 0) this.missing('the FOLL_* definitions');
    return parseFlagDefinitions(texts);
  }

  private keptFiles(): string[] {
    const record = join(this.kernel.dir, 'source', 'kept.json');
    return existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as string[]) : [];
  }
}

export interface ExplainSetup {
  probes: ExplainProbe[];
  flags: FlagTable;
  /** Where each probe's parameters came from, file:line. */
  where: Record<string, string>;
  notes: string[];
}

/** Probes for the functions, from the very source the kernel was built from. */
export async function prepareExplain(kernel: KernelArtifact, layout: CacheLayout, functions: string[], options: { strict: boolean }): Promise<ExplainSetup> {
  const source = new KernelSourceReader(kernel, layout);
  const probes: ExplainProbe[] = [];
  const where: Record<string, string> = {};
  const notes: string[] = [];
  for (const fn of functions) {
    let def: CFunction;
    try {
      def = await source.definition(fn);
    } catch (error) {
      // Asked for by name: an error; one of the counted functions by default: a note.
      if (options.strict || !(error instanceof InputError)) throw error;
      notes.push(`explain: ${error.message}`);
      continue;
    }
    const probe = explainProbe(def);
    probes.push(probe);
    where[fn] = def.where;
    notes.push(...probe.notes);
  }
  return { probes, flags: await source.flags(), where, notes };
}
