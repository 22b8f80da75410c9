import { describe, expect, it } from 'vitest';
import { applyEvidence } from '../../../src/measure/evidence.js';
import type { SampleRecord } from '../../../src/records/index.js';

const manifest = { events: [], evidence: { anyOf: ['kvm/kvm_try_async_get_page', 'kvm/kvm_async_pf_ready'], missing: 'async page fault path not exercised' } };
const sample = (tracepoint?: Record<string, number>): SampleRecord => ({
  workload: 'async-pf',
  args: [],
  pages: 64,
  rep: 0,
  status: 'ok',
  counts: { ftrace: { __get_user_pages: 195 }, ...(tracepoint ? { tracepoint } : {}) },
  result: null,
});

describe('workload evidence', () => {
  it('keeps a sample whose tracepoints fired', () => {
    expect(applyEvidence(sample({ 'kvm/kvm_try_async_get_page': 64, 'kvm/kvm_async_pf_ready': 64 }), manifest).status).toBe('ok');
  });

  it('turns a sample whose tracepoints stayed at zero into a statement, not a figure', () => {
    expect(applyEvidence(sample({ 'kvm/kvm_try_async_get_page': 0, 'kvm/kvm_async_pf_ready': 0 }), manifest)).toMatchObject({
      status: 'failed',
      reason: 'async page fault path not exercised (kvm/kvm_try_async_get_page = 0, kvm/kvm_async_pf_ready = 0)',
    });
  });

  it('says so when the kernel could count none of them', () => {
    expect(applyEvidence(sample(), manifest).reason).toBe(
      'async page fault path not exercised: none of kvm/kvm_try_async_get_page, kvm/kvm_async_pf_ready could be counted in this kernel',
    );
  });

  it('leaves workloads without a rule, and samples already not ok, alone', () => {
    expect(applyEvidence(sample(), { events: [] }).status).toBe('ok');
    expect(applyEvidence({ ...sample(), status: 'crashed' }, manifest).status).toBe('crashed');
  });
});
