import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePerfStat } from '../../../src/measure/perf.js';

describe('perf stat -x, parser', () => {
  it('reads counts from real perf output, under the names kexp reports', () => {
    const lines = readFileSync('test/fixtures/perf/stat-x-host.txt', 'utf8').split('\n');
    expect(parsePerfStat(lines, { 'sched:sched_process_exec': 'exec', 'sched:sched_process_fork': 'fork' })).toEqual({
      counts: { exec: 2, fork: 1 },
      problems: [],
    });
  });

  it('reports what perf could not count instead of a zero', () => {
    const lines = ['<not counted>,,kexp:kexp_0,0,0.00,,', '<not supported>,,kvm:kvm_async_pf_ready,0,0.00,,', '128,,kexp:kexp_1,100,100.00,,'];
    const parsed = parsePerfStat(lines, {
      'kexp:kexp_0': '__get_user_pages',
      'kvm:kvm_async_pf_ready': 'kvm/kvm_async_pf_ready',
      'kexp:kexp_1': 'handle_userfault',
      'kexp:kexp_2': 'x',
    });
    expect(parsed.counts).toEqual({ handle_userfault: 128 });
    expect(parsed.problems).toEqual([
      '__get_user_pages: perf says <not counted>',
      'kvm/kvm_async_pf_ready: perf says <not supported>',
      'x: no line from perf for kexp:kexp_2',
    ]);
  });

  it('refuses a multiplexed (scaled) count', () => {
    expect(parsePerfStat(['1000,,kexp:kexp_0,50,50.00,,'], { 'kexp:kexp_0': 'f' }).problems).toEqual([
      'f: perf counted only 50% of the time (multiplexed): the count is scaled, not exact',
    ]);
  });
});

describe('perf counts in a sample', () => {
  it('become counts.perf beside the other collectors, and problems become notes', async () => {
    const { toSampleRecord } = await import('../../../src/measure/figures.js');
    const record = toSampleRecord({
      type: 'sample',
      index: 0,
      workload: 'uffd-populate',
      args: [],
      pages: 64,
      rep: 0,
      exit: 0,
      result: { ok: true },
      counts: { ftrace: { __get_user_pages: 131 }, kprobe: { __get_user_pages: 131 } },
      perfRaw: {
        lines: ['131,,kexp:kexp_0,5302031,100.00,,', '<not supported>,,kvm:kvm_async_pf_ready,0,0.00,,'],
        events: { 'kexp:kexp_0': '__get_user_pages', 'kvm:kvm_async_pf_ready': 'kvm/kvm_async_pf_ready' },
      },
    });
    expect(record.counts.perf).toEqual({ __get_user_pages: 131 });
    expect(record.notes).toEqual(['perf: kvm/kvm_async_pf_ready: perf says <not supported>']);
    expect(record.status).toBe('ok');
  });
});
