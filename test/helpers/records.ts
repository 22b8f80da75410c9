/** Cell records for tests that need a run on disk without booting: an ok 6.12 cell of uffd-populate samples. */
import type { CellRecord, RunManifest } from '../../src/results/store.js';
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

/** A running run's manifest with these cells of 6.12 pending (`cell id -> variant and rep`); what a test cares about goes in `fields`. */
export function runManifest(id: string, cells: Record<string, { variant: string; rep: number }>, fields: Partial<RunManifest> = {}): RunManifest {
  return {
    schema: 'kexp/run@1',
    id,
    experiment: 'x',
    experimentFile: 'x.json',
    state: 'running',
    startedAt: '2026-11-26T00:00:00.000Z',
    updatedAt: '',
    kexp: { version: '0.1.0', commit: null },
    host: { hostname: 'h', kernel: 'k', cpus: 2, memoryMiB: 4096 },
    qemu: null,
    artifacts: { kernels: {} },
    cells: Object.fromEntries(Object.entries(cells).map(([c, { variant, rep }]) => [c, { kernel: '6.12', variant, rep, state: 'pending' as const }])),
    plannedCells: Object.keys(cells),
    ...fields,
  };
}
