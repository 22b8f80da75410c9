/** Cell records for tests that need a run on disk without booting: an ok 6.12 cell of uffd-populate samples. */
import type { CellRecord } from '../../src/results/store.js';
import type { SampleRecord } from '../../src/records/index.js';

/** uffd-populate samples at these sizes, each with the counts `counts(pages)` gives. */
export function uffdSamples(
  counts: (pages: number) => SampleRecord['counts'],
  pages: number[] = [64, 128],
  result: SampleRecord['result'] = null,
): SampleRecord[] {
  return pages.map((p) => ({ workload: 'uffd-populate', args: [], pages: p, rep: 0, status: 'ok' as const, counts: counts(p), result }));
}

/** An ok cell record of 6.12 under TCG; what a test cares about goes in `fields`. */
export function cellRecord(fields: Partial<CellRecord> & Pick<CellRecord, 'id'>): CellRecord {
  return {
    schema: 'kexp/cell@1',
    kernel: '6.12',
    variant: 'baseline',
    rep: 0,
    status: 'ok',
    accel: 'tcg',
    kernelKey: 'k',
    imageKey: 'i',
    seconds: 3,
    worker: 'local',
    traceable: null,
    warnings: [],
    agentErrors: [],
    samples: uffdSamples((pages) => ({ ftrace: { __get_user_pages: 2 * pages + 3 } })),
    ...fields,
  };
}
