/**
 * How a kselftest a user names (config/kselftest.ts: `TARGET:TEST[ ARGS]`) is found in a kernel's
 * selftest Makefiles. Pure.
 */
import { testPattern } from '../config/kselftest.js';

/**
 * Folders that were renamed: the mm selftests were tools/testing/selftests/vm until 6.3. Either
 * name finds the folder the tree has.
 */
export const TARGET_ALIASES: Record<string, string[]> = { mm: ['mm', 'vm'], vm: ['vm', 'mm'] };

export function targetCandidates(target: string): string[] {
  return TARGET_ALIASES[target] ?? [target];
}

/** List variables that name compiled test programs; arch-specific ones only for x86. */
const LIST_VARIABLE = /^(TEST_GEN_PROGS|TEST_GEN_FILES|TEST_GEN_PROGS_EXTENDED|TEST_CUSTOM_PROGS)(?:_(x86_64|x86|[A-Za-z0-9]+))?$/;

export interface MakefileLists {
  /** Compiled programs the Makefile can build, in the order met. */
  programs: string[];
  /** `include` lines naming plain files of the same folder (e.g. Makefile.kvm), to read too. */
  includes: string[];
}

/**
 * The programs a selftest Makefile lists, read as text: every assignment to TEST_GEN_PROGS,
 * TEST_GEN_FILES, TEST_GEN_PROGS_EXTENDED, TEST_CUSTOM_PROGS (and their _x86_64 / _x86 forms),
 * whatever conditional it sits in, so the list is what any configuration could build; words
 * that are make expressions ($(BINARIES_32)) are left out. Scripts (TEST_PROGS) are not programs.
 */
export function parseMakefileLists(text: string): MakefileLists {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const programs: string[] = [];
  const includes: string[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/(^|[^\\])#.*$/, '$1').trim();
    const inc = /^-?include\s+(.+)$/.exec(line);
    if (inc) {
      for (const word of inc[1]!.split(/\s+/)) if (/^[\w.-]+$/.test(word)) includes.push(word);
      continue;
    }
    const m = /^([A-Za-z_][\w]*)\s*(\+=|:=|\?=|=)\s*(.*)$/.exec(line);
    if (!m) continue;
    const v = LIST_VARIABLE.exec(m[1]!);
    if (!v) continue;
    if (v[2] && v[2] !== 'x86_64' && v[2] !== 'x86') continue;
    for (const word of m[3]!.split(/\s+/)) {
      if (!word || word.includes('$') || !testPattern.test(word)) continue;
      if (!programs.includes(word)) programs.push(word);
    }
  }
  return { programs, includes };
}

/** A test name against a folder's programs: exact, or the one program whose base name it is (x86_64/xapic_state_test). */
export function matchProgram(test: string, programs: readonly string[]): string | undefined {
  if (programs.includes(test)) return test;
  const byBase = programs.filter((p) => p.split('/').pop() === test);
  return byBase.length === 1 ? byBase[0] : undefined;
}

/** "madv_populate, map_populate, …" — the known names, shortest listing first for long lists. */
export function describeKnown(names: readonly string[], max = 60): string {
  const sorted = [...names].sort();
  return sorted.length <= max ? sorted.join(', ') : `${sorted.slice(0, max).join(', ')}, … (${sorted.length} in all)`;
}
