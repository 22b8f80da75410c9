/**
 * Four nights of an experiment that follows a kernel branch (one kernel, the baseline variant,
 * async-pf and uffd-populate at 64 and 128 pages, one repetition), shaped like kexp nightly's runs
 * of the integration test: the figures are the ones real 6.1 runs give (async-pf 3 calls of
 * __get_user_pages per page before the early-break change to mm/gup.c, 2 after; uffd-populate 2;
 * handle_userfault 1), the commits are made up, the crash and the interrupted night are written to
 * match what kexp records for them (src/measure/figures.ts). Not captured runs.
 *
 *   night 1  commit c1  GUP only counted (handle_userfault added to the experiment the next day)
 *   night 2  commit c1  interrupted: uffd-populate was not measured
 *   night 3  commit c2  async-pf GUP 3 → 2; the nightly bisected it to commit cm
 *   night 4  commit c3  async-pf crashed (a new failure); its bisection was interrupted
 */
import type { HistoryRunInput } from '../../../../src/report/history/build.js';
import type { NightlyRecord } from '../../../../src/results/nightly.js';
import type { ReportInput } from '../../../../src/records/index.js';
import { counts, GUP, notOk, ok } from '../fixtures.js';

export const HUF = 'handle_userfault';
export const KERNEL = 'linux-git';
export const c1 = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';
export const cm = '5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f';
export const c2 = '9f8e7d6c5b4a39281706f5e4d3c2b1a098f7e6d5';
export const c3 = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';

const BUG = 'not run: kernel BUG at mm/gup.c:1210!';

function night(n: number, state: 'complete' | 'incomplete', rows: ReportInput['rows']): ReportInput {
  const id = `watch-2026120${n}-023000`;
  return {
    runId: id,
    experiment: 'watch',
    startedAt: `2026-12-0${n}T02:30:00.000Z`,
    state,
    kernels: [KERNEL],
    variants: ['baseline'],
    workloads: ['async-pf', 'uffd-populate'],
    rows,
    provenance: [`kexp 0.1.0, run ${id}`],
  };
}

const huf = (row: ReturnType<typeof ok>): ReturnType<typeof ok> => ({ ...row, function: HUF });

export const night1 = night(1, 'complete', [ok(KERNEL, 'baseline', 'async-pf', 3, 1), ok(KERNEL, 'baseline', 'uffd-populate', 2, 3)]);

export const night2 = night(2, 'incomplete', [ok(KERNEL, 'baseline', 'async-pf', 3, 1), huf(ok(KERNEL, 'baseline', 'async-pf', 1, 0))]);

export const night3 = night(3, 'complete', [
  ok(KERNEL, 'baseline', 'async-pf', 2, 1),
  ok(KERNEL, 'baseline', 'uffd-populate', 2, 3),
  huf(ok(KERNEL, 'baseline', 'async-pf', 1, 0)),
  huf(ok(KERNEL, 'baseline', 'uffd-populate', 1, 0)),
]);

export const night4 = night(4, 'complete', [
  notOk(KERNEL, 'baseline', 'async-pf', 'crashed', BUG),
  // A row that calls itself ok over a crashed sample: still not a number.
  { ...ok(KERNEL, 'baseline', 'uffd-populate', 2, 3), statusCounts: counts({ ok: 1, crashed: 1 }) },
  { ...notOk(KERNEL, 'baseline', 'async-pf', 'crashed', BUG), function: HUF },
  huf(ok(KERNEL, 'baseline', 'uffd-populate', 1, 0)),
]);

export const nightly3: NightlyRecord = {
  schema: 'kexp/nightly@1',
  run: night3.runId,
  previous: night2.runId,
  sources: { [KERNEL]: { repo: '/srv/linux', ref: 'main', commit: c2 } },
  bisections: [
    {
      kernel: KERNEL,
      variant: 'baseline',
      workload: 'async-pf',
      good: { run: night2.runId, commit: c1 },
      bad: { run: night3.runId, commit: c2 },
      changes: [{ function: GUP, before: '3', after: '2', kind: 'figure', predicate: `${GUP}.per_page > 2.5` }],
      state: 'done',
      bisectId: 'bisect-git-20261203-024500-a1b2c3',
      result: {
        kind: 'found',
        commit: cm,
        subject: 'mm/gup: break early on VM_FAULT_RETRY for prefaults',
        summary: `first bad: ${cm.slice(0, 12)} mm/gup: break early on VM_FAULT_RETRY for prefaults`,
        steps: 3,
      },
    },
  ],
  notes: [],
};

export const nightly4: NightlyRecord = {
  schema: 'kexp/nightly@1',
  run: night4.runId,
  previous: night3.runId,
  sources: { [KERNEL]: { repo: '/srv/linux', ref: 'main', commit: c3 } },
  bisections: [
    {
      kernel: KERNEL,
      variant: 'baseline',
      workload: 'async-pf',
      good: { run: night3.runId, commit: c2 },
      bad: { run: night4.runId, commit: c3 },
      changes: [
        { function: GUP, before: '2', after: 'CRASHED', kind: 'status', predicate: 'status != crashed' },
        { function: HUF, before: '1', after: 'CRASHED', kind: 'status', predicate: 'status != crashed' },
      ],
      state: 'running',
      bisectId: 'bisect-git-20261204-024500-d4e5f6',
    },
  ],
  notes: [
    {
      kernel: KERNEL,
      variant: 'baseline',
      workload: 'uffd-populate',
      function: GUP,
      text: "the workload failed in a kernel that booted fine; a bisection step judges the boot's status, which did not change",
    },
  ],
};

const commits = (commit: string): Record<string, string> => ({ [`${KERNEL}/baseline`]: commit });

export const watchRuns: HistoryRunInput[] = [
  // Given out of order: the history sorts by start time.
  { input: night3, commits: commits(c2), nightly: nightly3 },
  { input: night1, commits: commits(c1) },
  { input: night4, commits: commits(c3), nightly: nightly4 },
  { input: night2, commits: commits(c1) },
];

export const skippedRun = {
  run: 'watch-20261202-120000',
  problem: 'results/watch-20261202-120000/manifest.json: truncated or not JSON (Unexpected end of JSON input); the run record is damaged',
};
