/**
 * What a user names: `TARGET:TEST[ ARGS]` (mm:madv_populate, kvm:demand_paging_test -u MISSING
 * -b {n}M), checked as input. Pure. Finding it in a kernel's tree is kselftest/.
 */
import { InputError } from '../core/errors.js';

export interface KselftestSpec {
  /** As the user wrote it: "mm", "kvm". */
  target: string;
  /** As the user wrote it: "madv_populate", "demand_paging_test", "x86_64/xapic_state_test". */
  test: string;
  /** Arguments, {n} placeholders kept. */
  args: string[];
}

const targetPattern = /^[A-Za-z0-9][\w.-]*$/;
/** A test's name: a program of the selftest folder, or a path below it. */
export const testPattern = /^[A-Za-z0-9][\w.+-]*(\/[A-Za-z0-9][\w.+-]*)*$/;

/** "mm:madv_populate", "kvm:demand_paging_test -u MISSING -b {n}M" (arguments split at white space). */
export function parseKselftestSpec(text: string, where = '--kselftest'): KselftestSpec {
  const [head, ...args] = text.trim().split(/\s+/);
  const m = /^([^:]+):(.+)$/.exec(head ?? '');
  if (!m || !targetPattern.test(m[1]!) || !testPattern.test(m[2]!)) {
    throw new InputError(
      `${where}: "${text}" is not TARGET:TEST[ ARGS]`,
      'e.g. --kselftest mm:madv_populate, --kselftest "kvm:demand_paging_test -u MISSING -b {n}M" (TARGET is a folder of tools/testing/selftests)',
    );
  }
  return { target: m[1]!, test: m[2]!, args };
}

export function kselftestLabel(spec: Pick<KselftestSpec, 'target' | 'test'>): string {
  return `${spec.target}:${spec.test}`;
}
