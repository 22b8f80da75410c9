import { callGroup as group } from '../../helpers/explain.js';
import { describe, expect, it } from 'vitest';
import { describeChange, diffBuckets, explainFunction } from '../../../src/explain/buckets.js';
import { normaliseCaller } from '../../../src/measure/hist.js';
import type { CallGroup, SampleExplain, SampleRecord } from '../../../src/records/index.js';

const FN = '__get_user_pages';

function sample(pages: number, groups: CallGroup[], total: number, extra: Partial<SampleExplain> = {}): SampleRecord {
  return {
    workload: 'async-pf',
    args: [],
    pages,
    rep: 0,
    status: 'ok',
    counts: { kprobe: { [FN]: total } },
    result: null,
    explain: { [FN]: { mode: 'return', groups, dropped: 0, problems: [], ...extra } },
  };
}

// baseline async-pf: per page a first try (ret 0), a FOLL_TRIED retry (ret 1), and one call from the vCPU
const baseline = [64, 128].map((n) =>
  sample(
    n,
    [
      group({ calls: n }),
      group({ flags: 0x220001, flagNames: ['FOLL_WRITE', 'FOLL_TRIED', 'FOLL_UNLOCKABLE'], ret: 1, calls: n }),
      group({ stack: ['kvm_faultin_pfn', 'kvm_mmu_do_page_fault', 'kvm_mmu_page_fault', 'vmx_handle_exit'], pagesNull: false, ret: 1, calls: n + 2 }),
    ],
    3 * n + 2,
  ),
);
const earlyBreak = [64, 128].map((n) =>
  sample(
    n,
    [group({ calls: n }), group({ stack: ['kvm_faultin_pfn', 'kvm_mmu_do_page_fault', 'kvm_mmu_page_fault'], pagesNull: false, ret: 1, calls: n + 2 })],
    2 * n + 2,
  ),
);

describe('buckets', () => {
  it('fits each bucket like the total, and checks they add up', () => {
    const e = explainFunction('async-pf', FN, baseline, 3);
    expect(e.buckets.map((b) => [b.per_page, b.fixed])).toEqual([
      [1, 2],
      [1, 0],
      [1, 0],
    ]);
    expect(e.buckets[0]?.caller).toEqual(['kvm_faultin_pfn', 'kvm_mmu_do_page_fault', 'kvm_mmu_page_fault']);
    expect(e.total).toEqual({ per_page: 3, fixed: 2, collector: 'kprobe' });
    expect(e.adds_up).toBe(true);
    expect(e.problems).toEqual([]);
  });

  it('merges groups that differ only below the depth', () => {
    const deep = [64, 128].map((n) => sample(n, [group({ stack: ['a', 'b', 'c'], calls: n }), group({ stack: ['a', 'b', 'd'], calls: n })], 2 * n));
    expect(explainFunction('async-pf', FN, deep, 2).buckets.map((b) => [b.caller, b.per_page])).toEqual([[['a', 'b'], 2]]);
    expect(explainFunction('async-pf', FN, deep, 3).buckets).toHaveLength(2);
  });

  it('says loudly when the buckets do not add up to the collector total', () => {
    const short = [64, 128].map((n) => sample(n, [group({ calls: n })], n + 1));
    const e = explainFunction('async-pf', FN, short, 3);
    expect(e.adds_up).toBe(false);
    expect(e.problems).toEqual([
      'sample 64 pages rep 0: the buckets add up to 64 calls, kprobe counted 65',
      'sample 128 pages rep 0: the buckets add up to 128 calls, kprobe counted 129',
    ]);
  });

  it('cannot check without a total', () => {
    const noTotal = baseline.map((s) => ({ ...s, counts: {} }));
    const e = explainFunction('async-pf', FN, noTotal, 3);
    expect(e.adds_up).toBe(false);
    expect(e.problems.at(-1)).toMatch(/cannot be checked/);
  });

  it('names the bucket a variant removed', () => {
    const changes = diffBuckets(explainFunction('async-pf', FN, baseline, 3), explainFunction('async-pf', FN, earlyBreak, 3));
    expect(changes.map(describeChange)).toEqual([
      '-1/page: FOLL_WRITE|FOLL_TRIED|FOLL_UNLOCKABLE, pages=NULL, nr_pages=1, ret 1 from async_pf_execute < process_one_work < worker_thread (gone)',
    ]);
  });
});

describe('callers', () => {
  it('drops offsets, the tracing machinery and the function itself', () => {
    const returnProbe = [
      'kretprobe_dispatcher+0x45/0x65',
      'kretprobe_rethook_handler+0x3e/0x49',
      'rethook_trampoline_handler+0x7f/0xd1',
      'arch_rethook_trampoline_callback+0x34/0x44',
      'arch_rethook_trampoline+0x2c/0x4d',
      'faultin_page_range+0xa1/0x24a',
      'do_madvise+0x174/0x717',
      '__x64_sys_madvise+0x27/0x2a',
      'do_syscall_64+0x4a/0xa4',
    ];
    expect(normaliseCaller(returnProbe, FN, 3)).toEqual(['faultin_page_range', 'do_madvise', '__x64_sys_madvise']);
    const entryProbe = [
      'kprobe_ftrace_handler+0x10a/0x1a0',
      '0xffffffffc0201099',
      '__get_user_pages+0x5/0x6a0',
      '__get_user_pages_locked+0x1c2/0x4a0',
      'populate_vma_page_range+0x72/0xa0',
    ];
    expect(normaliseCaller(entryProbe, FN, 2)).toEqual(['__get_user_pages_locked', 'populate_vma_page_range']);
  });

  it('counts a frame repeated by a recovered return address once', () => {
    expect(normaliseCaller(['arch_rethook_trampoline+0x2c/0x4d', 'a+0x1/0x2', 'a+0x1/0x2', 'b+0x1/0x2'], FN, 3)).toEqual(['a', 'b']);
  });
});
