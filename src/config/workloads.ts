/**
 * Workloads are data too: images/workloads/<name>.c is the program, and an optional
 * images/workloads/<name>.json says which tracepoints prove that it exercised the path it is
 * about, and how to word it when it did not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonFile } from './issues.js';

const eventName = z.string().regex(/^[\w-]+\/[\w-]+$/, 'expected a tracepoint as group/name, e.g. kvm/kvm_async_pf_ready');

export const workloadManifestSchema = z.object({
  $schema: z.string().optional(),
  description: z.string().optional(),
  /** Tracepoints counted in every sample of this workload. */
  events: z.array(eventName).default([]),
  /** The sample only counts when at least one of these events fired in it. */
  evidence: z.object({
    anyOf: z.array(eventName).min(1),
    /** Said of a sample without the evidence, e.g. "async page fault path not exercised". */
    missing: z.string().min(1),
  }).strict().optional(),
}).strict();

export type WorkloadManifest = z.infer<typeof workloadManifestSchema>;

export function loadWorkloadManifest(root: string, workload: string): WorkloadManifest {
  const file = join(root, 'images', 'workloads', `${workload}.json`);
  if (!existsSync(file)) return { events: [] };
  return parseJsonFile(file, readFileSync(file, 'utf8'), workloadManifestSchema);
}
