/**
 * Kconfig as data: fragments and .config files parsed to symbol → value, merged, and verified
 * after olddefconfig. Pure; the Kconfig sources are passed in as text.
 */
import { assignment, notSet, parseConfigText, type ConfigAssignment, type ConfigValue } from '../config/kconfig-fragment.js';

/** Later fragments win, as with merge_config.sh. */
export function mergeAssignments(lists: ConfigAssignment[][]): Map<string, ConfigAssignment> {
  const merged = new Map<string, ConfigAssignment>();
  for (const list of lists) for (const a of list) merged.set(a.symbol, a);
  return merged;
}

export function configToMap(text: string): Map<string, ConfigValue> {
  const map = new Map<string, ConfigValue>();
  for (const a of parseConfigText(
    text
      .split('\n')
      .filter((l) => assignment.test(l.trim()) || notSet.test(l.trim()))
      .join('\n'),
    '.config',
  )) {
    map.set(a.symbol, a.value);
  }
  return map;
}

/** Apply requested values to a .config text (what merge_config.sh -m does), before olddefconfig. */
export function applyAssignments(configText: string, requested: Map<string, ConfigAssignment>): string {
  const seen = new Set<string>();
  const lines = configText
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => {
      const m = assignment.exec(line) ?? notSet.exec(line);
      const symbol = m?.[1];
      if (!symbol) return line;
      const wanted = requested.get(symbol);
      if (!wanted) return line;
      seen.add(symbol);
      return renderAssignment(wanted.symbol, wanted.value);
    });
  for (const [symbol, wanted] of requested) {
    if (!seen.has(symbol)) lines.push(renderAssignment(symbol, wanted.value));
  }
  return lines.join('\n').replace(/\n*$/, '\n');
}

function renderAssignment(symbol: string, value: ConfigValue): string {
  return value === 'n' ? `# ${symbol} is not set` : `${symbol}=${value}`;
}

export interface ConfigMismatch {
  symbol: string;
  wanted: ConfigValue;
  /** undefined: the symbol does not appear in .config at all (unknown, or its menu is hidden). */
  got: ConfigValue | undefined;
  origin: string;
}

export function verifyConfig(requested: Map<string, ConfigAssignment>, resolved: Map<string, ConfigValue>): ConfigMismatch[] {
  const mismatches: ConfigMismatch[] = [];
  for (const [symbol, wanted] of requested) {
    const got = resolved.get(symbol);
    const effective = got ?? 'n';
    if (effective !== wanted.value && !(wanted.value === 'n' && got === undefined)) {
      mismatches.push({ symbol, wanted: wanted.value, got, origin: wanted.origin });
    }
  }
  return mismatches;
}

export interface KconfigEntry {
  symbol: string;
  file: string;
  dependsOn: string[];
  selectedBy?: string[];
}

/**
 * Find `config SYMBOL` in Kconfig texts and collect its "depends on" lines (and the enclosing
 * "if" blocks' conditions are left out: the depends lines are what a reader acts on).
 */
export function findKconfigEntries(symbol: string, files: { file: string; text: string }[]): KconfigEntry[] {
  const bare = symbol.replace(/^CONFIG_/, '');
  const entries: KconfigEntry[] = [];
  for (const { file, text } of files) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!new RegExp(`^\\s*(menu)?config\\s+${bare}\\s*$`).test(lines[i]!)) continue;
      const dependsOn: string[] = [];
      for (let j = i + 1; j < lines.length; j++) {
        const line = lines[j]!;
        if (/^\s*(menu)?config\s|^\s*(choice|endchoice|menu|endmenu|if|endif|source|comment)\b/.test(line)) break;
        const dep = /^\s*depends on\s+(.+)$/.exec(line);
        if (dep) dependsOn.push(dep[1]!.trim());
      }
      entries.push({ symbol, file, dependsOn });
    }
  }
  return entries;
}

export function formatMismatches(mismatches: ConfigMismatch[], entries: Map<string, KconfigEntry[]>, resolved: Map<string, ConfigValue>): string {
  return mismatches
    .map((m) => {
      const got = m.got === undefined ? 'absent from .config' : m.got === 'n' ? 'not set' : m.got;
      const found = entries.get(m.symbol) ?? [];
      const lines = [`  ${m.symbol}: asked ${m.wanted} (${m.origin}), got ${got}`];
      if (found.length === 0) lines.push('    no "config" entry for it in this tree: the symbol does not exist in this kernel version');
      for (const entry of found) {
        if (entry.dependsOn.length === 0) lines.push(`    defined in ${entry.file}, no "depends on" (check the enclosing menu/if, or a "choice")`);
        for (const dep of entry.dependsOn) lines.push(`    depends on ${dep}   [${describeDeps(dep, resolved)}] (${entry.file})`);
      }
      return lines.join('\n');
    })
    .join('\n');
}

/** Show the current value of every symbol named in a dependency expression. */
export function describeDeps(expression: string, resolved: Map<string, ConfigValue>): string {
  const names = [...new Set(expression.match(/\b[A-Z][A-Z0-9_]+\b/g) ?? [])];
  return names.map((name) => `${name}=${resolved.get(`CONFIG_${name}`) ?? 'n'}`).join(' ');
}
