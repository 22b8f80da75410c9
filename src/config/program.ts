/**
 * A program an experiment or a command names (a command, a kselftest TARGET:TEST) checked as
 * input: what its arguments' {n} says about its size, and whether every size is whole pages. Pure.
 * image/plan.ts turns a checked program into a run of the guest plan.
 */
import { InputError } from '../core/errors.js';
import { kselftestLabel, parseKselftestSpec } from './kselftest.js';

/**
 * How big one unit of {n} is: bytes when the placeholder carries a size suffix ({n}K, {n}M, {n}G:
 * figures per 4 KiB page), "n" (the program's own unit: figures per n), or "run" (no placeholder:
 * one run per repetition, figures per run).
 */
export type SizeUnit = { kind: 'bytes'; bytes: number } | { kind: 'n' } | { kind: 'run' };

export const PAGE_BYTES = 4096;
const suffixBytes: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/**
 * What a program's arguments say about its size: no {n} (one run per repetition), {n} followed by
 * K, M or G in the same argument (a size in bytes: figures per page), else {n} in its own unit. Pure.
 */
export function sizeUnitOf(args: readonly string[]): SizeUnit {
  let unit: SizeUnit = { kind: 'run' };
  for (const arg of args) {
    for (const m of arg.matchAll(/\{n\}([KMG])?(?:i?B)?(?![A-Za-z0-9])/gi)) {
      const suffix = m[1]?.toUpperCase();
      if (suffix) return { kind: 'bytes', bytes: suffixBytes[suffix]! };
      unit = { kind: 'n' };
    }
    if (unit.kind === 'run' && arg.includes('{n}')) unit = { kind: 'n' };
  }
  return unit;
}

/** The abscissa of the fit for one value of {n}: pages when the unit is known, n otherwise, 0 without a size. */
export function fitSize(n: number, unit: SizeUnit): number {
  if (unit.kind === 'run') return 0;
  if (unit.kind === 'n') return n;
  return (n * unit.bytes) / PAGE_BYTES;
}

/** Sizes of {n} whose pages are whole ({n}K takes multiples of 4); an input error names the first that is not. */
export function checkedSizes(label: string, unit: SizeUnit, sizes: number[], where: string): number[] {
  if (unit.kind === 'run') return [0];
  for (const n of sizes) {
    if (!Number.isInteger(fitSize(n, unit)))
      throw new InputError(
        `${where}: ${label}: {n} = ${n} is not a whole number of 4 KiB pages`,
        'give sizes that are (for {n}K: multiples of 4), or a larger unit ({n}M)',
      );
  }
  return sizes;
}

/** A command (argv) as input: the program named, its arguments, its size unit and its checked sizes. */
export function checkCommand(argv: readonly string[], sizes: number[], where: string): { program: string; args: string[]; unit: SizeUnit; sizes: number[] } {
  const [program, ...args] = argv;
  if (!program) throw new InputError(`${where}: no program`, 'e.g. kexp boot --kernel 6.12 -- /usr/bin/stress-ng --vm 1 --vm-bytes {n}M');
  const unit = sizeUnitOf(args);
  return { program, args, unit, sizes: checkedSizes(program, unit, sizes, where) };
}

/** A kselftest as input: its label TARGET:TEST, its size unit and its checked sizes. */
export function checkKselftest(
  spec: { target: string; test: string; args: string[] },
  sizes: number[],
  where: string,
): { label: string; unit: SizeUnit; sizes: number[] } {
  const unit = sizeUnitOf(spec.args);
  const label = kselftestLabel(spec);
  return { label, unit, sizes: checkedSizes(label, unit, sizes, where) };
}

/** An experiment's program entry (a command, or a kselftest named TARGET:TEST) checked as image/plan.ts programRun reads it. */
export function checkProgramEntry(
  entry: { name: string; args: string[]; sizes?: number[]; program?: 'command' | 'kselftest' },
  defaultSizes: number[],
  where: string,
): void {
  const sizes = entry.sizes ?? defaultSizes;
  if (entry.program === 'kselftest') {
    const spec = parseKselftestSpec(entry.name, `${where}.kselftest`);
    checkKselftest({ target: spec.target, test: spec.test, args: entry.args }, sizes, where);
  } else checkCommand([entry.name, ...entry.args], sizes, where);
}
