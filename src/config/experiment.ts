/**
 * Experiment files (experiments/*.json): which kernels, variants and workloads, at which sizes,
 * how often, counted how. Validated by a schema, then checked against what exists (kernel
 * recipes, variant folders, workload sources), each error naming the file and the field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { parseJsonFile } from './issues.js';
import { listKernelNames } from './recipe.js';
import { listVariants } from './variants.js';
import { collectorNames } from '../measure/samples.js';

const sizes = z.array(z.number().int().min(1).max(1_048_576)).min(1);

export const workloadEntrySchema = z.object({
  name: z.string().min(1),
  args: z.array(z.string().regex(/^[A-Za-z0-9_.,=+:/-]+$/, 'letters, digits and _.,=+:/- only')).default([]),
  /** Page counts; two or more give a per-page figure. Defaults to the experiment's sizes. */
  sizes: sizes.optional(),
}).strict();

export const experimentSchema = z.object({
  $schema: z.string().optional(),
  name: z.string().regex(/^[\w.-]+$/, 'letters, digits, dot, dash or underscore'),
  description: z.string().optional(),
  kernels: z.array(z.string()).min(1),
  variants: z.array(z.string()).min(1),
  workloads: z.array(workloadEntrySchema).min(1),
  sizes: sizes.default([64, 128]),
  repetitions: z.number().int().min(1).max(100).default(1),
  collectors: z.array(z.enum(collectorNames)).min(1).default(['ftrace', 'kprobe']),
  functions: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'a kernel symbol name')).min(1).default(['__get_user_pages', 'handle_userfault']),
  /** Tracepoints counted besides the workloads' own. */
  events: z.array(z.string().regex(/^[\w-]+\/[\w-]+$/, 'group/name')).default([]),
  /** Functions (of `functions`) whose calls kexp explain splits into buckets in every cell. */
  explain: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'a kernel symbol name')).default([]),
  accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
  memoryMiB: z.number().int().min(128).max(65536).default(1024),
  timeouts: z.object({
    /** No new result line for this long: the VM is hung. */
    watchdogSeconds: z.number().int().min(5).default(60),
    /** A whole boot may take this long. */
    bootSeconds: z.number().int().min(10).default(600),
  }).strict().default({ watchdogSeconds: 60, bootSeconds: 600 }),
  report: z.object({
    /** The function (or tracepoint) the tables show. */
    function: z.string().default('__get_user_pages'),
  }).strict().default({ function: '__get_user_pages' }),
  /** Where the cells run (the command line and $KEXP_EXECUTOR, $KEXP_REDIS override it). */
  executor: z.object({
    type: z.enum(['local', 'bullmq']).default('local'),
    /** Redis of a kexp worker fleet, without a password: this file is copied into every run record. */
    redis: z.string().refine(isRedisUrlWithoutPassword, 'a redis:// or rediss:// URL without a password (give a password with --redis or $KEXP_REDIS)').optional(),
  }).strict().optional(),
}).strict();

function isRedisUrlWithoutPassword(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '' && url.password === '';
  } catch {
    return false;
  }
}

export type Experiment = z.infer<typeof experimentSchema>;

export interface LoadedExperiment {
  experiment: Experiment;
  file: string;
  /** The file's text, kept verbatim in the run record. */
  text: string;
}

export function experimentsDir(root: string): string {
  return join(root, 'experiments');
}

/** A path, or a name under experiments/ ("default" → experiments/default.json). */
export function resolveExperimentFile(root: string, given?: string): string {
  if (!given) return join(experimentsDir(root), 'default.json');
  if (existsSync(given)) return resolve(given);
  const named = join(experimentsDir(root), given.endsWith('.json') ? given : `${given}.json`);
  if (existsSync(named)) return named;
  throw new InputError(`no experiment file "${given}"`, `give a path, or a name under ${experimentsDir(root)}`);
}

export function parseExperiment(file: string, text: string, known: { kernels: string[]; variants: string[]; workloads: string[] }): Experiment {
  const experiment = parseJsonFile(file, text, experimentSchema);
  const unknown = (path: string, value: string, list: string[], what: string): InputError =>
    new InputError(`${file}: ${path}: unknown ${what} "${value}"`, `known ${what}s: ${list.join(', ') || '(none)'}`);
  experiment.kernels.forEach((k, i) => {
    if (!known.kernels.includes(k)) throw unknown(`kernels.${i}`, k, known.kernels, 'kernel');
  });
  experiment.variants.forEach((v, i) => {
    if (!known.variants.includes(v)) throw unknown(`variants.${i}`, v, known.variants, 'variant');
  });
  experiment.workloads.forEach((w, i) => {
    if (!known.workloads.includes(w.name)) throw unknown(`workloads.${i}.name`, w.name, known.workloads, 'workload');
  });
  const targets = [...experiment.functions, ...experiment.events];
  if (!targets.includes(experiment.report.function) && !experiment.report.function.includes('/')) {
    throw new InputError(`${file}: report.function: "${experiment.report.function}" is not among functions (${experiment.functions.join(', ')})`, 'add it to "functions", or report one of them');
  }
  experiment.explain.forEach((fn, i) => {
    if (!experiment.functions.includes(fn)) throw new InputError(`${file}: explain.${i}: "${fn}" is not among functions (${experiment.functions.join(', ')})`, 'explain splits the calls a collector counts: add it to "functions" too');
  });
  if (experiment.explain.length > 0 && !experiment.collectors.some((c) => c === 'kprobe' || c === 'ftrace')) {
    throw new InputError(`${file}: explain: the buckets are checked against the kprobe or ftrace totals, and collectors has neither`, 'add "kprobe" to collectors');
  }
  return experiment;
}

export function loadExperiment(root: string, file: string, workloads: string[]): LoadedExperiment {
  const text = readFileSync(file, 'utf8');
  const experiment = parseExperiment(file, text, { kernels: listKernelNames(root), variants: listVariants(root), workloads });
  return { experiment, file, text };
}

export function experimentLabel(file: string): string {
  return basename(file, '.json');
}
