/**
 * A Kconfig fragment's syntax (kernels/fragments/*.config, --config-add): CONFIG_X=value and
 * "# CONFIG_X is not set" lines, parsed to assignments. Pure. Merging and verifying them against a
 * kernel's .config is kernel/kconfig.ts.
 */

/** A symbol's value as .config writes it: y, m, n (from "is not set"), a number or a quoted string. */
export type ConfigValue = string;

export interface ConfigAssignment {
  symbol: string;
  value: ConfigValue;
  /** Where it was asked for, e.g. "kernels/fragments/tracing.config:4". */
  origin: string;
}

/** The two lines a fragment or a .config assigns with: CONFIG_X=value, and "# CONFIG_X is not set". */
export const assignment = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
export const notSet = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

export class FragmentSyntaxError extends Error {}

export function parseConfigText(text: string, origin: string): ConfigAssignment[] {
  const result: ConfigAssignment[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const where = `${origin}:${i + 1}`;
    let m = assignment.exec(line);
    if (m) {
      result.push({ symbol: m[1]!, value: m[2]!, origin: where });
      return;
    }
    m = notSet.exec(line);
    if (m) {
      result.push({ symbol: m[1]!, value: 'n', origin: where });
      return;
    }
    if (line === '' || line.startsWith('#')) return;
    throw new FragmentSyntaxError(`${where}: expected CONFIG_NAME=value or "# CONFIG_NAME is not set", found "${line}"`);
  });
  return result;
}
