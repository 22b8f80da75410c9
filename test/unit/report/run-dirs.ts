/**
 * Run folders on disk for the report stage's command-level tests: RunStore records shaped as
 * kexp run writes them (a manifest, experiment.json, one cell record per kernel × variant), with
 * chosen per-page figures. The counts are made up to give those figures exactly (calls = fixed +
 * per_page x pages at 64 and 128 pages); they are not captured runs.
 */
import { cellRecord, uffdSamples } from '../../helpers/records.js';
import { RunStore, type RunManifest } from '../../../src/results/store.js';

export const GUP = '__get_user_pages';
export const HUF = 'handle_userfault';

export interface RunSpec {
  id: string;
  experiment?: string;
  state?: RunManifest['state'];
  /** variant -> function -> per-page calls (fixed 3), all on kernel 6.12, workload uffd-populate. */
  perPage: Record<string, Record<string, number>>;
}

export function writeRun(results: string, spec: RunSpec): string {
  const experiment = spec.experiment ?? 'x';
  const variants = Object.keys(spec.perPage);
  const cellId = (variant: string): string => `6.12_${variant}_r0`;
  // the run's stamp in its id (name-YYYYMMDD-HHMMSS), as kexp run names it: runs are listed by start
  const [, d, t] = /-(\d{8})-(\d{6})$/.exec(spec.id) ?? [];
  const startedAt =
    d && t ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4)}.000Z` : '2026-11-26T00:00:00.000Z';
  const manifest: RunManifest = {
    schema: 'kexp/run@1',
    id: spec.id,
    experiment,
    experimentFile: `${experiment}.json`,
    state: spec.state ?? 'complete',
    startedAt,
    updatedAt: startedAt,
    kexp: { version: '0.1.0', commit: null },
    host: { hostname: 'h', kernel: 'k', cpus: 2, memoryMiB: 4096 },
    qemu: null,
    artifacts: { kernels: {} },
    cells: Object.fromEntries(variants.map((variant) => [cellId(variant), { kernel: '6.12', variant, rep: 0, state: 'pending' as const }])),
    plannedCells: variants.map(cellId),
  };
  const definition = { name: experiment, kernels: ['6.12'], variants, workloads: [{ name: 'uffd-populate' }], functions: [GUP, HUF] };
  const store = RunStore.create(results, spec.id, JSON.stringify(definition), manifest);
  for (const variant of variants) {
    const figures = spec.perPage[variant] ?? {};
    const samples = uffdSamples((pages) => ({ ftrace: Object.fromEntries(Object.entries(figures).map(([fn, perPage]) => [fn, 3 + perPage * pages])) }));
    store.recordCell(cellRecord({ id: cellId(variant), variant, samples }));
  }
  return store.dir;
}
