/**
 * Workloads are data too: images/workloads/<name>.c is the program, and an optional
 * images/workloads/<name>.json says which tracepoints prove that it exercised the path it is
 * about, and how to word it when it did not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonFile } from './issues.js';
import { ARG_TOKEN } from './limits.js';
import { findInRoot, foldersInRoot, listInRoot } from './layers.js';

const eventName = z.string().regex(/^[\w-]+\/[\w-]+$/, 'expected a tracepoint as group/name, e.g. kvm/kvm_async_pf_ready');

export const workloadManifestSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    /** Tracepoints counted in every sample of this workload. */
    events: z.array(eventName).default([]),
    /** The sample only counts when at least one of these events fired in it. */
    evidence: z
      .object({
        anyOf: z.array(eventName).min(1),
        /** Said of a sample without the evidence, e.g. "async page fault path not exercised". */
        missing: z.string().min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

export type WorkloadManifest = z.infer<typeof workloadManifestSchema>;

export function loadWorkloadManifest(root: string, workload: string): WorkloadManifest {
  // Beside the workload's own source: a user's workload of a packaged name brings its own.
  const dir = workloadDir(root, workload);
  const file = dir ? join(dir, `${workload}.json`) : undefined;
  if (!file || !existsSync(file)) return { events: [] };
  return parseJsonFile(file, readFileSync(file, 'utf8'), workloadManifestSchema);
}

/** The folder images/workloads/ of the first layer of the root that has the workload's source. */
export function workloadDir(root: string, workload: string): string | undefined {
  const file = findInRoot(root, 'images', 'workloads', `${workload}.c`);
  return file ? join(file, '..') : undefined;
}

/** Folders of shared workload headers (images/workloads/include/), top layer first. */
export function workloadIncludeDirs(root: string): string[] {
  return foldersInRoot(root, 'images', 'workloads', 'include');
}

/** The workloads that exist: images/workloads/<name>.c in any layer of the root. */
export function listWorkloadNames(root: string): string[] {
  return listInRoot(root, ['images', 'workloads'], (f) => f.endsWith('.c'))
    .map((f) => f.slice(0, -2))
    .sort();
}

/** One option a workload takes, as its usage line states it: `--write`, or `--timeout SECONDS`. */
export interface WorkloadOption {
  flag: string;
  /** The value's name when the option takes one (SECONDS, N). */
  value?: string;
}

/** kexp passes --pages itself, once per size: a workload spec may not. */
export const RESERVED_WORKLOAD_OPTIONS = ['--pages'];

/** Values with these names are whole numbers (1 or more). */
const NUMERIC_VALUES = new Set(['N', 'SECONDS', 'PAGES', 'COUNT', 'MS', 'BYTES']);

/**
 * The options a workload takes, read from the usage line at the top of its source
 * (` * Usage: uffd-populate --pages N [--write] [--timeout SECONDS]`), so that a workload added to
 * images/workloads/ documents and declares its options in the same line. Undefined when the source
 * has no usage line naming the workload (then only the characters of its options are checked).
 */
export function parseUsageLine(workload: string, source: string): WorkloadOption[] | undefined {
  const escaped = workload.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = new RegExp(`^[\\s*/]*Usage:[ \\t]*${escaped}(?:[ \\t]+(.*))?$`, 'm').exec(source);
  if (!line) return undefined;
  const options: WorkloadOption[] = [];
  for (const match of (line[1] ?? '').matchAll(/(--[\w-]+)(?:\s+([A-Z][A-Z0-9_]*))?/g)) {
    options.push(match[2] ? { flag: match[1]!, value: match[2] } : { flag: match[1]! });
  }
  return options;
}

export function loadWorkloadOptions(root: string, workload: string): WorkloadOption[] | undefined {
  const dir = workloadDir(root, workload);
  if (!dir) return undefined;
  const file = join(dir, `${workload}.c`);
  // The usage line is in the header comment: the first few KiB are enough.
  return parseUsageLine(workload, readFileSync(file, 'utf8').slice(0, 8192));
}

export function describeWorkloadOptions(options: WorkloadOption[]): string {
  const own = options.filter((o) => !RESERVED_WORKLOAD_OPTIONS.includes(o.flag));
  return own.length === 0 ? 'no options' : own.map((o) => (o.value ? `${o.flag} ${o.value}` : o.flag)).join(', ');
}

/**
 * What is wrong with a workload's options, or undefined: every word must be something the guest
 * plan can carry (ARG_TOKEN), and, when the workload's usage line is known, an option it takes
 * (with its value where it takes one, a whole number where the value is a count or seconds),
 * given once, and never --pages (kexp gives that, once per size).
 */
export function workloadArgsProblem(workload: string, args: string[], options: WorkloadOption[] | undefined): string | undefined {
  for (const arg of args) {
    if (!ARG_TOKEN.test(arg)) return `"${arg}" has characters a workload option cannot have (letters, digits and _.,=+:/- only)`;
  }
  if (!options) return undefined;
  const accepts = `${workload} takes ${describeWorkloadOptions(options)}`;
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (RESERVED_WORKLOAD_OPTIONS.includes(arg)) return `${arg} is kexp's to give (once per size, from --pages or "sizes"); ${accepts}`;
    const option = options.find((o) => o.flag === arg);
    if (!option) return `"${arg}" is not an option of ${workload}; ${accepts}`;
    if (seen.has(arg)) return `${arg} is given twice`;
    seen.add(arg);
    if (!option.value) continue;
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) return `${arg} needs a value (${arg} ${option.value})`;
    if (NUMERIC_VALUES.has(option.value) && !/^[1-9]\d{0,8}$/.test(value))
      return `${arg} ${option.value}: expected a whole number of 1 or more, found "${value}"`;
    i++;
  }
  return undefined;
}
