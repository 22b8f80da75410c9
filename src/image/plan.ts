/**
 * The guest plan: which workloads run, at which sizes, how often, with which collectors over which
 * functions. Encoded as a few text lines, base64, in one kernel command line parameter (the
 * image stays the same for every plan, so it is built and cached once).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../core/errors.js';
import type { CollectorName } from '../records/index.js';
import { parseKselftestSpec } from '../config/kselftest.js';
import { checkCommand, checkKselftest, fitSize, type SizeUnit } from '../config/program.js';

export interface WorkloadRun {
  /** A workload of images/workloads, or, for a program, its label ("mm:madv_populate", "stress-ng"). */
  workload: string;
  /** The workload's options; a program's arguments with their {n} placeholders. */
  args: string[];
  /** Page counts; a program's values of {n} ([0] when it has none). */
  sizes: number[];
  /** Set when the sample is a program run as it is (kexp boot -- CMD, --kselftest), not a kexp workload. */
  command?: CommandSpec;
}

/** A program run as a workload: the guest runs it in `dir`, its exit status and output are the result. */
export interface CommandSpec {
  kind: 'command' | 'kselftest';
  /**
   * The program as the guest finds it: an absolute path once the cell resolved it (before the
   * boot); until then a command's program as the user named it, and empty for a kselftest.
   */
  program: string;
  /** The folder it runs in (a kselftest: its own folder, as the kselftest runner runs it). */
  dir: string;
  /** A kselftest: TARGET and TEST as named; built from the cell's kernel tree and variant. */
  kselftest?: { target: string; test: string };
  /**
   * How big one unit of {n} is: "page" (per-page figures), bytes when the placeholder carries a
   * size suffix ({n}K, {n}M, {n}G: figures per 4 KiB page), "n" (the program's own unit: figures
   * per n), or "run" (no placeholder: one run per repetition, figures per run).
   */
  unit: SizeUnit;
}

/** The unit the figures of a sample are in. */
export function figureUnit(unit: SizeUnit | undefined): 'page' | 'n' | 'run' {
  if (!unit || unit.kind === 'bytes') return 'page';
  return unit.kind;
}

const placeholder = /\{n\}/g;

/** A program's arguments for one value of {n}. Pure. */
export function substituteSize(args: readonly string[], n: number): string[] {
  return args.map((a) => a.replace(placeholder, String(n)));
}

/** Arguments travel %XX-encoded outside this set (the agent decodes them with busybox httpd -d). */
const plainArg = /^[A-Za-z0-9_.,=:/@-]+$/;

export function encodeArg(arg: string): string {
  if (arg === '') return '%';
  if (plainArg.test(arg)) return arg;
  return [...Buffer.from(arg, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_.,=:/@-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** The inverse of encodeArg (what the agent does), for tests and for reading a plan back. */
export function decodeArg(token: string): string {
  if (token === '%') return '';
  return Buffer.from(
    token.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

export interface GuestPlan {
  runs: WorkloadRun[];
  repetitions: number;
  collectors: CollectorName[];
  functions: string[];
  /** Tracepoints (group/name) counted in the kernel for every sample. */
  events?: string[];
  /**
   * Functions whose calls are split into buckets by in-kernel hist triggers (kexp explain), in
   * probe order, each with the plan lines explain wrote for it (explain/probes.ts planLines): the
   * plan carries them as they are.
   */
  explain?: ExplainPlan[];
}

/** One explained function in the guest plan: its name and its lines (xprobe, xhist ...). */
export interface ExplainPlan {
  function: string;
  lines: string[];
}

export interface PlannedSample {
  workload: string;
  args: string[];
  /** The fit's abscissa: pages (a program: pages of its size, n in its own unit, 0 without a size). */
  pages: number;
  rep: number;
  /** A program: its value of {n} and what it runs. */
  size?: number;
  command?: CommandSpec;
}

/** Repetitions outermost, so that a hang late in a boot still leaves a complete first round. */
export function expandSamples(plan: GuestPlan): PlannedSample[] {
  const samples: PlannedSample[] = [];
  for (let rep = 0; rep < plan.repetitions; rep++) {
    for (const run of plan.runs) {
      if (run.command) {
        const sizes = run.command.unit.kind === 'run' ? [0] : run.sizes;
        for (const n of sizes)
          samples.push({ workload: run.workload, args: run.args, pages: fitSize(n, run.command.unit), rep, size: n, command: run.command });
      } else {
        for (const pages of run.sizes) samples.push({ workload: run.workload, args: run.args, pages, rep });
      }
    }
  }
  return samples;
}

const token = /^[A-Za-z0-9_.,=+:/-]+$/;

const unique = (names: readonly string[]): string[] => [...new Set(names)];

export function planText(plan: GuestPlan): string {
  for (const fn of plan.functions) if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(fn)) throw new InputError(`function "${fn}": not a kernel symbol name`);
  for (const run of plan.runs) {
    if (run.command) {
      const { program, dir } = guestPaths(run.command);
      for (const path of [program, dir]) {
        if (!/^\/[A-Za-z0-9_.,=+:/@-]*$/.test(path))
          throw new InputError(`program "${run.workload}": "${path}" must be an absolute guest path of letters, digits and _.,=+:/@-`);
      }
      continue;
    }
    for (const part of [run.workload, ...run.args]) {
      if (!token.test(part))
        throw new InputError(`workload "${run.workload}": "${part}" has characters the guest plan cannot carry (use letters, digits and _.,=+:/-)`);
    }
  }
  for (const event of plan.events ?? [])
    if (!/^[\w-]+\/[\w-]+$/.test(event)) throw new InputError(`tracepoint "${event}": expected group/name, e.g. kvm/kvm_async_pf_ready`);
  // The agent takes the names as they are: each once (a second hist trigger on one event would be refused).
  const lines = [`funcs ${unique(plan.functions).join(' ')}`, `collect ${plan.collectors.join(' ')}`];
  if (plan.events && plan.events.length > 0) lines.push(`events ${unique(plan.events).join(' ')}`);
  for (const probe of plan.explain ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(probe.function)) throw new InputError(`function "${probe.function}": not a kernel symbol name`);
    lines.push(...probe.lines);
  }
  for (const s of expandSamples(plan)) {
    if (s.command) {
      const { program, dir } = guestPaths(s.command);
      lines.push(['exec', s.size ?? 0, s.rep, dir, program, ...substituteSize(s.args, s.size ?? 0).map(encodeArg)].join(' '));
    } else lines.push(['sample', s.workload, s.pages, s.rep, ...s.args].join(' '));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The plan as kernel command line parameters: `kexp.plan` (base64) while that is short,
 * `kexp.planz` (gzip, base64) when the plain form would crowd the 2048-byte command line
 * (explain's trigger lines are long and repetitive, so they compress well).
 */
export function encodePlan(plan: GuestPlan): Record<string, string> {
  const text = planText(plan);
  const plain = Buffer.from(text).toString('base64');
  if (plain.length <= 1024) return { 'kexp.plan': plain };
  return { 'kexp.planz': gzipSync(text, { level: 9 }).toString('base64') };
}

export function decodePlan(params: Record<string, string>): string {
  const z = params['kexp.planz'];
  if (z !== undefined) return gunzipSync(Buffer.from(z, 'base64')).toString('utf8');
  return Buffer.from(params['kexp.plan'] ?? '', 'base64').toString('utf8');
}

/**
 * A program's guest path and folder. Before the cell has resolved them (in the image? carried from
 * the host? which folder has the kselftest?) they stand in by name, so that a plan's length can be
 * checked early; boot() refuses a plan with a program not yet resolved.
 */
export function guestPaths(command: CommandSpec): { program: string; dir: string } {
  if (command.program.startsWith('/') && command.dir.startsWith('/')) return { program: command.program, dir: command.dir };
  if (command.kselftest) return { program: `/kselftest/${command.kselftest.target}/${command.kselftest.test}`, dir: `/kselftest/${command.kselftest.target}` };
  return { program: command.program.startsWith('/') ? command.program : `/usr/bin/${command.program}`, dir: command.dir || COMMAND_DIR };
}

/** Programs of the plan the cell has not resolved to guest paths yet. */
export function unresolvedPrograms(plan: GuestPlan): string[] {
  return plan.runs
    .filter(
      (r) => r.command && !(r.command.program.startsWith('/') && r.command.dir.startsWith('/') && (r.command.kind === 'command' || r.command.program !== '')),
    )
    .map((r) => r.workload);
}

/** Where a command runs when nothing else is said: a writable folder. */
export const COMMAND_DIR = '/tmp';

/** `kexp boot -- PROGRAM ARGS` as a run: labelled by the program as named, sized when an argument has {n}. */
export function commandRun(argv: readonly string[], sizes: number[], where = 'kexp boot --'): WorkloadRun {
  const { program, args, unit, sizes: checked } = checkCommand(argv, sizes, where);
  return { workload: program, args, sizes: checked, command: { kind: 'command', program, dir: COMMAND_DIR, unit } };
}

/** A kselftest as a run, labelled TARGET:TEST; its program and folder are found in the cell's kernel tree. */
export function kselftestRun(spec: { target: string; test: string; args: string[] }, sizes: number[], where = '--kselftest'): WorkloadRun {
  const { label, unit, sizes: checked } = checkKselftest(spec, sizes, where);
  return {
    workload: label,
    args: spec.args,
    sizes: checked,
    command: { kind: 'kselftest', program: '', dir: '', unit, kselftest: { target: spec.target, test: spec.test } },
  };
}

/** An experiment's program entry (a command, or a kselftest named TARGET:TEST) as a run. */
export function programRun(
  entry: { name: string; args: string[]; sizes?: number[]; program?: 'command' | 'kselftest' },
  defaultSizes: number[],
  where: string,
): WorkloadRun {
  const sizes = entry.sizes ?? defaultSizes;
  if (entry.program === 'kselftest') {
    const spec = parseKselftestSpec(entry.name, `${where}.kselftest`);
    return kselftestRun({ target: spec.target, test: spec.test, args: entry.args }, sizes, where);
  }
  return commandRun([entry.name, ...entry.args], sizes, where);
}
