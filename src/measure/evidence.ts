/**
 * A sample only measures what it claims when the kernel path it is about actually ran: an
 * async-pf sample whose async page fault tracepoints stayed at zero says so instead of
 * becoming a per-page figure. Pure.
 */
import type { WorkloadManifest } from '../config/workloads.js';
import type { SampleRecord } from '../records/index.js';

export function applyEvidence(sample: SampleRecord, manifest: WorkloadManifest): SampleRecord {
  const rule = manifest.evidence;
  if (!rule || sample.status !== 'ok') return sample;
  const counted = sample.counts.tracepoint ?? {};
  const known = rule.anyOf.filter((event) => event in counted);
  if (known.length === 0) {
    return { ...sample, status: 'failed', reason: `${rule.missing}: none of ${rule.anyOf.join(', ')} could be counted in this kernel` };
  }
  if (known.every((event) => (counted[event] ?? 0) === 0)) {
    return { ...sample, status: 'failed', reason: `${rule.missing} (${known.map((e) => `${e} = 0`).join(', ')})` };
  }
  return sample;
}
