/**
 * Report inputs shaped like the default experiment's runs (2 kernels × 3 variants × 4 workloads,
 * sizes 64, 128 and 256 pages, one repetition, so 3 samples behind each figure).
 *
 * Where they come from: the ok figures are the ones seen on real 6.12 runs (uffd-populate:
 * baseline 2/page, early-break 1/page, continue 1/page, fixed 3) and the async page fault claim of
 * the linux-mm mail (baseline 3, early-break 2). The failures are written to match what kexp's
 * own code produces for them (src/measure/figures.ts, src/vm/boot.ts): reasons "not run: <console
 * title>" for samples a crashed VM never reported, "N of M samples <status>: ..." for a figure
 * where some samples failed, and the flags of src/measure/fit.ts. They are not captured runs.
 */
import type { Bucket, FigureRow, ReportInput, Status } from '../../../src/records/index.js';

export const GUP = '__get_user_pages';
export const kernels = ['6.1', '6.12'];
export const variants = ['baseline', 'early-break', 'continue'];
export const workloads = ['uffd-populate', 'uffd-populate --write', 'uffd-remote', 'async-pf'];

export function counts(partial: Partial<Record<Status, number>>): Record<Status, number> {
  return { ok: 0, failed: 0, crashed: 0, hung: 0, skipped: 0, ...partial };
}

/** An ok figure over 3 samples. */
export function ok(kernel: string, variant: string, workload: string, perPage: number, fixed: number, extra: Partial<FigureRow> = {}): FigureRow {
  return {
    kernel,
    variant,
    workload,
    function: GUP,
    status: 'ok',
    per_page: perPage,
    fixed,
    residual: 0,
    flags: [],
    statusCounts: counts({ ok: 3 }),
    ...extra,
  };
}

export function notOk(
  kernel: string,
  variant: string,
  workload: string,
  status: Exclude<Status, 'ok'>,
  reason: string,
  statusCounts = counts({ [status]: 3 }),
): FigureRow {
  return { kernel, variant, workload, function: GUP, status, per_page: null, fixed: null, residual: null, reason, flags: [], statusCounts };
}

const BUG_GUP = 'not run: kernel BUG at mm/gup.c:1828!';
const HUNG_RESULT_CHANNEL = '1 of 3 samples hung: not run: no progress on the result channel for 60 s';

/** An interrupted run: 6.1 continue never finished, 6.12 continue crashed in uffd-remote. */
export const interruptedRun: ReportInput = {
  runId: 'default-20250612-091500',
  experiment: 'default',
  startedAt: '2025-06-12T09:15:00.000Z',
  state: 'incomplete',
  kernels,
  variants,
  workloads,
  rows: [
    ok('6.1', 'baseline', 'uffd-populate', 2, 3),
    ok('6.1', 'baseline', 'uffd-populate --write', 2, 3),
    ok('6.1', 'baseline', 'uffd-remote', 2, 5),
    ok('6.1', 'baseline', 'async-pf', 3, 1),
    ok('6.1', 'early-break', 'uffd-populate', 1, 3),
    ok('6.1', 'early-break', 'uffd-populate --write', 1, 3),
    ok('6.1', 'early-break', 'uffd-remote', 1.5, 4.667, {
      residual: 0.471,
      flags: ['non-integral per-page figure 1.5', 'residual 0.471: samples do not lie on one line'],
    }),
    notOk('6.1', 'early-break', 'async-pf', 'hung', HUNG_RESULT_CHANNEL, counts({ ok: 2, hung: 1 })),
    // 6.1 continue: the run was interrupted while it booted; no rows at all.
    ok('6.12', 'baseline', 'uffd-populate', 2, 3),
    ok('6.12', 'baseline', 'uffd-populate --write', 2, 3),
    ok('6.12', 'baseline', 'uffd-remote', 2, 5, { flags: ['collectors disagree at 256 pages (rep 0): ftrace 517, kprobe 516'] }),
    ok('6.12', 'baseline', 'async-pf', 3, 1),
    ok('6.12', 'early-break', 'uffd-populate', 1, 3),
    ok('6.12', 'early-break', 'uffd-populate --write', 1, 3),
    ok('6.12', 'early-break', 'uffd-remote', 1, 5),
    ok('6.12', 'early-break', 'async-pf', 2, 1),
    ok('6.12', 'continue', 'uffd-populate', 1, 3),
    ok('6.12', 'continue', 'uffd-populate --write', 1, 3),
    notOk('6.12', 'continue', 'uffd-remote', 'crashed', BUG_GUP),
    notOk('6.12', 'continue', 'async-pf', 'crashed', BUG_GUP),
    // Another counted function, which the __get_user_pages tables must not show.
    { ...ok('6.12', 'baseline', 'uffd-populate', 1, 0), function: 'handle_userfault' },
    { ...ok('6.12', 'continue', 'uffd-remote', 1, 0), function: 'handle_userfault' },
  ],
  provenance: [
    'kexp 0.1.0 (34b999b0c1d2), run default-20250612-091500',
    'host kexp-dev, 2 cores, QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u16)',
    'accelerator tcg: /dev/kvm is PVM-only (kvm_pvm): nested SVM needs TCG with -cpu max',
    '1 repetition(s), sizes 64, 128, 256 pages; counted with ftrace, kprobe',
  ],
};

/**
 * The next night's run, complete: 6.1 continue ran (and crashed in uffd-populate --write), the
 * 6.1 early-break hang is gone, the 1.5 became 1, the 6.12 collectors agree again, and 6.12
 * early-break now hangs in async-pf (a new failure).
 */
export const nextRun: ReportInput = {
  ...interruptedRun,
  runId: 'default-20250613-091500',
  startedAt: '2025-06-13T09:15:00.000Z',
  state: 'complete',
  rows: [
    ...interruptedRun.rows.filter(
      (r) =>
        !(r.kernel === '6.1' && r.variant === 'early-break' && (r.workload === 'async-pf' || r.workload === 'uffd-remote')) &&
        !(r.kernel === '6.12' && r.variant === 'baseline' && r.workload === 'uffd-remote'),
    ),
    ok('6.1', 'early-break', 'uffd-remote', 1, 5),
    ok('6.1', 'early-break', 'async-pf', 2, 1),
    ok('6.1', 'continue', 'uffd-populate', 1, 3),
    notOk('6.1', 'continue', 'uffd-populate --write', 'crashed', 'not run: kernel BUG at mm/gup.c:1706!'),
    notOk('6.1', 'continue', 'uffd-remote', 'crashed', 'not run: kernel BUG at mm/gup.c:1706!'),
    notOk('6.1', 'continue', 'async-pf', 'crashed', 'not run: kernel BUG at mm/gup.c:1706!'),
    ok('6.12', 'baseline', 'uffd-remote', 2, 5),
  ]
    .filter((r) => !(r.kernel === '6.12' && r.variant === 'early-break' && r.workload === 'async-pf' && r.function === GUP))
    .concat([notOk('6.12', 'early-break', 'async-pf', 'hung', 'not run: no progress on the result channel for 60 s')]),
  provenance: [
    'kexp 0.1.0 (5d2e0f1a9c3b), run default-20250613-091500',
    'host kexp-dev, 2 cores, QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u16)',
    'accelerator tcg: /dev/kvm is PVM-only (kvm_pvm): nested SVM needs TCG with -cpu max',
    '1 repetition(s), sizes 64, 128, 256 pages; counted with ftrace, kprobe',
  ],
};

/** Five variants with long names, and a long workload: the text must still fit 72 columns. */
export const wideRun: ReportInput = {
  runId: 'wide-20250614-120000',
  experiment: 'wide',
  startedAt: '2025-06-14T12:00:00.000Z',
  state: 'complete',
  kernels: ['6.12'],
  variants: ['baseline', 'early-break-without-foll-tried', 'continue-and-retake-mmap-lock', 'continue-skip-retry', 'revert-df17277b2a85'],
  workloads: ['uffd-populate', 'uffd-populate --write --threads=4 --hugetlb --pattern=0x5a', 'async-pf'],
  rows: [],
  provenance: [
    'kexp 0.1.0, run wide-20250614-120000',
    `a provenance line that is much longer than seventy-two columns, as a QEMU version string with its Debian revision can be: QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u16)`,
  ],
};
wideRun.rows = wideRun.variants.flatMap((variant, v) =>
  wideRun.workloads.map((workload, w) => {
    if (v === 2 && w === 1) return notOk('6.12', variant, workload, 'crashed', 'not run: kernel BUG at mm/gup.c:1828!', counts({ ok: 1, crashed: 1, hung: 1 }));
    if (v === 4 && w === 2) return notOk('6.12', variant, workload, 'skipped', 'no /dev/kvm in the guest: nested virtualization is off');
    return ok('6.12', variant, workload, 1 + ((v + w) % 3), 3, v === 1 && w === 0 ? { flags: ['residual 0.2: samples do not lie on one line'] } : {});
  }),
);

/**
 * Buckets of kexp explain (src/explain/buckets.ts), written by hand to match what the 6.12 async
 * page fault path does according to the early-break patch's description and the linux-mm mail:
 * per page, KVM's async_pf_execute() prefaults with get_user_pages_remote(pages = NULL, nr_pages
 * = 1), which drops mmap_lock and returns 0; __get_user_pages_locked() then retries that page with
 * FOLL_TRIED (returns 1); and the later fault maps the page with pages != NULL. early-break drops
 * the FOLL_TRIED retry. The FOLL_* values are 6.12's (mm_types.h, mm/internal.h). Not a captured run.
 */
export const SIZES = [64, 128, 256];

export function bucket(
  caller: string[],
  flags: string[],
  flagsValue: number,
  pagesNull: boolean,
  nrPages: '1' | 'range',
  ret: number,
  perPage: number,
  fixed: number,
): Bucket {
  return {
    caller,
    flags,
    flagsValue,
    pages_null: pagesNull,
    nr_pages: nrPages,
    ret,
    per_page: perPage,
    fixed,
    residual: 0,
    calls: SIZES.map((pages) => fixed + perPage * pages),
  };
}

const FOLL_WRITE = 1 << 0;
const FOLL_TOUCH = 1 << 16;
const FOLL_TRIED = 1 << 17;
const FOLL_REMOTE = 1 << 18;
const FOLL_UNLOCKABLE = 1 << 21;
const FOLL_MADV_POPULATE = 1 << 22;
const ASYNC_PF = ['__get_user_pages_locked', 'get_user_pages_remote', 'async_pf_execute'];
const HVA_TO_PFN = ['__get_user_pages_locked', 'get_user_pages_unlocked', 'hva_to_pfn'];
const POPULATE = ['__get_user_pages_locked', 'faultin_page_range', 'madvise_populate'];

export const asyncPfPrefault = bucket(
  ASYNC_PF,
  ['FOLL_WRITE', 'FOLL_TOUCH', 'FOLL_REMOTE', 'FOLL_UNLOCKABLE'],
  FOLL_WRITE | FOLL_TOUCH | FOLL_REMOTE | FOLL_UNLOCKABLE,
  true,
  '1',
  0,
  1,
  0,
);
export const asyncPfTriedRetry = bucket(
  ASYNC_PF,
  ['FOLL_WRITE', 'FOLL_TOUCH', 'FOLL_TRIED', 'FOLL_REMOTE', 'FOLL_UNLOCKABLE'],
  FOLL_WRITE | FOLL_TOUCH | FOLL_TRIED | FOLL_REMOTE | FOLL_UNLOCKABLE,
  true,
  '1',
  1,
  1,
  0,
);
export const asyncPfMap = bucket(HVA_TO_PFN, ['FOLL_WRITE', 'FOLL_TOUCH', 'FOLL_UNLOCKABLE'], FOLL_WRITE | FOLL_TOUCH | FOLL_UNLOCKABLE, false, '1', 1, 1, 1);
const populateFlags = ['FOLL_TOUCH', 'FOLL_UNLOCKABLE', 'FOLL_MADV_POPULATE'];
const POPULATE_VALUE = FOLL_TOUCH | FOLL_UNLOCKABLE | FOLL_MADV_POPULATE;
export const populateRange = bucket(POPULATE, populateFlags, POPULATE_VALUE, true, 'range', 0, 1, 2);
export const populateTriedRetry = bucket(
  POPULATE,
  [...populateFlags.slice(0, 1), 'FOLL_TRIED', ...populateFlags.slice(1)],
  POPULATE_VALUE | FOLL_TRIED,
  true,
  '1',
  1,
  1,
  1,
);

export const explained = (buckets: Bucket[], addsUp = true, problems: string[] = []): Pick<FigureRow, 'explain'> => ({
  explain: { buckets, adds_up: addsUp, problems },
});

/** One 6.12 run that explained __get_user_pages: baseline 3 and 2 per page, early-break 2 and 1, continue crashed in async-pf. */
export const explainedRun: ReportInput = {
  runId: 'explain-20250615-080000',
  experiment: 'explain',
  startedAt: '2025-06-15T08:00:00.000Z',
  state: 'complete',
  kernels: ['6.12'],
  variants,
  workloads: ['uffd-populate', 'async-pf'],
  rows: [
    ok('6.12', 'baseline', 'uffd-populate', 2, 3, explained([populateRange, populateTriedRetry])),
    ok('6.12', 'baseline', 'async-pf', 3, 1, explained([asyncPfPrefault, asyncPfTriedRetry, asyncPfMap])),
    ok('6.12', 'early-break', 'uffd-populate', 1, 2, explained([populateRange])),
    ok('6.12', 'early-break', 'async-pf', 2, 1, explained([asyncPfPrefault, asyncPfMap])),
    // One call the hist maps did not see: the buckets are shown, and said not to add up.
    ok(
      '6.12',
      'continue',
      'uffd-populate',
      1,
      3,
      explained([{ ...populateRange, fixed: 3, calls: SIZES.map((p) => p + 3) }], false, [
        'sample 256 pages rep 0: the buckets add up to 259 calls, kprobe counted 260',
      ]),
    ),
    // Buckets from the samples that finished before the crash: a cell that is not ok shows none.
    {
      ...notOk('6.12', 'continue', 'async-pf', 'crashed', 'not run: kernel BUG at mm/gup.c:1828!', counts({ ok: 1, crashed: 2 })),
      ...explained([asyncPfPrefault, asyncPfMap]),
    },
  ],
  provenance: ['kexp 0.1.0, run explain-20250615-080000', '1 repetition(s), sizes 64, 128, 256 pages; counted with kprobe; explained __get_user_pages'],
};

/** The next run: the baseline kernel lost its FOLL_TRIED retry for async-pf (as if early-break were merged). */
export const explainedNextRun: ReportInput = {
  ...explainedRun,
  runId: 'explain-20250616-080000',
  startedAt: '2025-06-16T08:00:00.000Z',
  rows: explainedRun.rows.map((r) =>
    r.variant === 'baseline' && r.workload === 'async-pf' ? ok('6.12', 'baseline', 'async-pf', 2, 1, explained([asyncPfPrefault, asyncPfMap])) : r,
  ),
};
