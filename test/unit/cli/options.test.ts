import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import {
  accelOption,
  checkPlanFits,
  checkPredicateCounted,
  checkReportedFunction,
  parseAccel,
  parseBisectPredicate,
  parseBisectRun,
  parseHistoryFormat,
  parseKselftests,
  parseNotify,
  parseReportFormat,
  repeatable,
  repsOption,
  parseCollectors,
  parseDepth,
  parseEventNames,
  parseFunctionNames,
  parseJobs,
  parseKernels,
  parseMemory,
  parsePages,
  parseReps,
  parseVariants,
  parseWatchdog,
  parseWholeNumber,
  parseWorkloads,
} from '../../../src/cli/options.js';
import type { Catalog } from '../../../src/config/catalog.js';
import { maxPagesFor } from '../../../src/config/limits.js';
import { InputError } from '../../../src/core/errors.js';

/** A project as data: what loadCatalog reads from kernels/, patches/ and images/workloads/. */
const catalog: Catalog = {
  kernels: ['6.1', '6.12'],
  variants: ['baseline', 'continue', 'early-break', 'only-612', 'a:b', 'a/b'],
  workloads: ['async-pf', 'uffd-populate', 'uffd-remote', 'mine'],
  kernelSeries: { '6.1': '6.1', '6.12': '6.12' },
  variantSeries: { baseline: [], continue: ['6.1', '6.12'], 'early-break': ['6.1', '6.12'], 'only-612': ['6.12'], 'a:b': [], 'a/b': [] },
  workloadOptions: {
    'async-pf': [
      { flag: '--pages', value: 'N' },
      { flag: '--timeout', value: 'SECONDS' },
    ],
    'uffd-populate': [{ flag: '--pages', value: 'N' }, { flag: '--write' }, { flag: '--timeout', value: 'SECONDS' }],
    'uffd-remote': [
      { flag: '--pages', value: 'N' },
      { flag: '--timeout', value: 'SECONDS' },
    ],
    // a user's workload without a usage line: only the characters of its options are checked
    mine: undefined,
  },
};

/** The InputError a call throws (failing the test when it does not throw one). */
function rejection(call: () => unknown): InputError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    return error as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

describe('whole numbers', () => {
  it('accepts digits within the bounds', () => {
    expect(parseWholeNumber('--n', '7', { min: 1, max: 10 })).toBe(7);
    expect(parseWholeNumber('--n', ' 10 ', { min: 1, max: 10 })).toBe(10);
  });

  it('refuses what Number() would have read loosely, naming the flag, the value and the range', () => {
    for (const bad of ['abc', '', '-1', '1e3', '0x10', '12abc', '2.5', '0', '11', 'NaN', 'Infinity']) {
      const e = rejection(() => parseWholeNumber('--n', bad, { min: 1, max: 10 }));
      expect(e.message).toBe(`--n: expected a whole number from 1 to 10, found "${bad}"`);
    }
  });

  it('--memory, --watchdog, --reps, --jobs, --depth each have their bounds', () => {
    expect(parseMemory('2048')).toBe(2048);
    expect(rejection(() => parseMemory('abc')).message).toMatch(/^--memory: expected a whole number of MiB from 128 to 65536, found "abc"$/);
    expect(rejection(() => parseMemory('64')).message).toMatch(/--memory.*"64"/);
    expect(parseWatchdog('60')).toBe(60);
    expect(rejection(() => parseWatchdog('-1')).message).toBe('--watchdog: expected a whole number of seconds from 5 to 3600, found "-1"');
    expect(rejection(() => parseWatchdog('4')).message).toMatch(/--watchdog.*"4"/);
    expect(parseReps('3')).toBe(3);
    expect(rejection(() => parseReps('101')).message).toMatch(/--reps: expected a whole number from 1 to 100, found "101"/);
    expect(parseJobs('2')).toBe(2);
    expect(rejection(() => parseJobs('0')).message).toMatch(/--jobs: .*found "0"/);
    expect(parseDepth('8')).toBe(8);
    expect(rejection(() => parseDepth('9')).message).toMatch(/--depth: expected a whole number of frames from 1 to 8, found "9"/);
  });
});

describe('--accel and --collect', () => {
  it('accepts the known names only', () => {
    expect(parseAccel('tcg')).toBe('tcg');
    expect(rejection(() => parseAccel('qemu')).message).toBe('--accel: expected auto, kvm or tcg, found "qemu"');
    expect(parseCollectors('ftrace,kprobe,ftrace')).toEqual(['ftrace', 'kprobe']);
    const e = rejection(() => parseCollectors('ftrace,dtrace'));
    expect(e.message).toContain('"dtrace"');
    expect(e.hint).toContain('ftrace, kprobe, perf');
    expect(rejection(() => parseCollectors(',')).message).toMatch(/--collect: expected collectors/);
  });
});

describe('--pages', () => {
  it('reads sizes, each once', () => {
    expect(parsePages('64,128', { memoryMiB: 1024 })).toEqual([64, 128]);
    expect(parsePages('64, 128,64', { memoryMiB: 1024 })).toEqual([64, 128]);
  });

  it("caps a size at half the guest memory in 4 KiB pages, and at the workloads' own limit", () => {
    expect(maxPagesFor(1024)).toBe((1024 * 1024 * 1024) / 4096 / 2);
    expect(maxPagesFor(65536)).toBe(1_048_576);
    expect(parsePages(String(maxPagesFor(1024)), { memoryMiB: 1024 })).toEqual([maxPagesFor(1024)]);
    const tooMany = rejection(() => parsePages('99999999', { memoryMiB: 1024, memoryFlag: '--memory' }));
    expect(tooMany.message).toBe(
      `--pages: 99999999 pages do not fit the guest: expected at most ${maxPagesFor(1024)} (half of --memory 1024 MiB, in 4 KiB pages), found "99999999"`,
    );
    expect(tooMany.hint).toContain('1048576');
    const raise = rejection(() => parsePages(`64,${maxPagesFor(1024) + 1}`, { memoryMiB: 1024, memoryFlag: '--memory' }));
    expect(raise.hint).toMatch(/raise --memory/);
    // the same size fits a bigger guest
    expect(parsePages(String(maxPagesFor(1024) + 1), { memoryMiB: 2048 })).toEqual([maxPagesFor(1024) + 1]);
  });

  it('refuses what is not a page count, and too few sizes where a fit needs two', () => {
    for (const bad of ['', 'abc', '64,abc', '0', '-64', '64.5', '1e3']) {
      expect(rejection(() => parsePages(bad, { memoryMiB: 1024 })).message).toMatch(
        new RegExp(`^--pages: expected page counts from 1 to ${maxPagesFor(1024)}.*found "${bad.replace('.', '\\.')}"`),
      );
    }
    expect(rejection(() => parsePages('64,64', { memoryMiB: 1024, minSizes: 2 })).message).toMatch(
      /--pages: expected 2 different sizes or more.*found "64,64"/,
    );
  });
});

describe('function and tracepoint names', () => {
  it('accepts C identifiers (and group/name where tracepoints are allowed)', () => {
    expect(parseFunctionNames('--functions', '__get_user_pages, handle_userfault,foo.isra.0')).toEqual(['__get_user_pages', 'handle_userfault', 'foo.isra.0']);
    expect(parseFunctionNames('--function', 'kvm/kvm_async_pf_ready', { events: true })).toEqual(['kvm/kvm_async_pf_ready']);
    expect(parseEventNames('--events', 'kvm/kvm_async_pf_ready')).toEqual(['kvm/kvm_async_pf_ready']);
  });

  it('refuses anything else, naming the flag and the name', () => {
    for (const bad of ['bad name', 'bad;name', '1abc', '$(id)', 'a-b']) {
      const e = rejection(() => parseFunctionNames('--function', bad));
      expect(e.message).toBe(`--function: "${bad}" is not a kernel function name (a C identifier such as __get_user_pages)`);
    }
    expect(rejection(() => parseFunctionNames('--functions', '__get_user_pages,bad name')).message).toMatch(
      /--functions: "bad name" is not .* \(in "__get_user_pages,bad name"\)/,
    );
    expect(rejection(() => parseFunctionNames('--functions', 'kvm/kvm_async_pf_ready')).message).toMatch(/not a kernel function name/);
    expect(rejection(() => parseFunctionNames('--functions', ' , ')).message).toMatch(/--functions: expected/);
    expect(rejection(() => parseEventNames('--events', 'kvm_async_pf_ready')).message).toMatch(
      /--events: "kvm_async_pf_ready" is not a tracepoint as group\/name/,
    );
  });
});

describe('--workload', () => {
  it('reads each spec as a workload and the options its usage line declares', () => {
    expect(parseWorkloads('uffd-populate --write, async-pf --timeout 30,mine --anything=1', catalog, [64, 128])).toEqual([
      { workload: 'uffd-populate', args: ['--write'], sizes: [64, 128] },
      { workload: 'async-pf', args: ['--timeout', '30'], sizes: [64, 128] },
      { workload: 'mine', args: ['--anything=1'], sizes: [64, 128] },
    ]);
  });

  it('refuses unknown workloads, options they do not take, characters the plan cannot carry, repeats', () => {
    const unknown = rejection(() => parseWorkloads('fio', catalog, [64]));
    expect(unknown.message).toBe('--workload: unknown workload "fio" in "fio"');
    expect(unknown.hint).toContain('uffd-populate (--write, --timeout SECONDS)');
    expect(rejection(() => parseWorkloads('uffd-populate $(id)', catalog, [64])).message).toMatch(
      /^--workload: "uffd-populate \$\(id\)": "\$\(id\)" has characters/,
    );
    expect(rejection(() => parseWorkloads('mine `id`', catalog, [64])).message).toMatch(/has characters/);
    expect(rejection(() => parseWorkloads('uffd-remote --write', catalog, [64])).message).toMatch(
      /"--write" is not an option of uffd-remote; uffd-remote takes --timeout SECONDS/,
    );
    expect(rejection(() => parseWorkloads('async-pf --timeout', catalog, [64])).message).toMatch(/--timeout needs a value/);
    expect(rejection(() => parseWorkloads('async-pf --timeout soon', catalog, [64])).message).toMatch(/--timeout SECONDS: expected a whole number/);
    expect(rejection(() => parseWorkloads('uffd-populate --pages 5', catalog, [64])).message).toMatch(/--pages is kexp's to give/);
    expect(rejection(() => parseWorkloads('uffd-populate --write --write', catalog, [64])).message).toMatch(/--write is given twice/);
    expect(rejection(() => parseWorkloads('uffd-populate,uffd-populate', catalog, [64])).message).toMatch(/"uffd-populate" is given twice/);
    expect(rejection(() => parseWorkloads(',', catalog, [64])).message).toMatch(/--workload: expected workloads/);
  });
});

describe('--kernel and --variant', () => {
  it('accepts known names, "all" where allowed', () => {
    expect(parseKernels('6.1,6.12', catalog)).toEqual(['6.1', '6.12']);
    expect(parseKernels('all', catalog, { all: true })).toEqual(['6.1', '6.12']);
    expect(parseVariants('baseline,early-break', catalog, ['6.1'])).toEqual(['baseline', 'early-break']);
    // "all" of a kernel: the variants with patches for its series, or none at all
    expect(parseVariants('all', catalog, ['6.1'], { all: true })).toEqual(['baseline', 'continue', 'early-break', 'a:b', 'a/b']);
    expect(parseVariants('all', catalog, ['6.12'], { all: true })).toContain('only-612');
  });

  it('refuses unknown names with the known ones', () => {
    const k = rejection(() => parseKernels('nosuch', catalog));
    expect(k.message).toBe('--kernel: unknown kernel "nosuch"');
    expect(k.hint).toContain('6.1, 6.12');
    const v = rejection(() => parseVariants('baseline,nosuch', catalog, ['6.12']));
    expect(v.message).toBe('--variant: unknown variant "nosuch"');
    expect(v.hint).toContain('baseline, continue, early-break');
    expect(rejection(() => parseKernels('all', catalog)).message).toMatch(/unknown kernel "all"/);
    // boot takes one variant: a list is not split into a first and an ignored rest
    expect(rejection(() => parseVariants('baseline,continue', catalog, ['6.12'], { single: true })).message).toMatch(/unknown variant "baseline,continue"/);
  });

  it("refuses a variant without patches for the kernel's series", () => {
    const e = rejection(() => parseVariants('only-612', catalog, ['6.1']));
    expect(e.message).toMatch(/variant "only-612" has patches for 6\.12 only, none for kernel 6\.1/);
    expect(e.hint).toContain('patches/only-612/6.1/');
    expect(parseVariants('only-612', catalog, ['6.12'])).toEqual(['only-612']);
  });

  it('refuses a name given twice, and two names that make the same cell id', () => {
    expect(rejection(() => parseVariants('baseline,baseline', catalog, ['6.12'])).message).toBe('--variant: variant "baseline" is given twice');
    expect(rejection(() => parseKernels('6.1,6.1', catalog)).message).toBe('--kernel: kernel "6.1" is given twice');
    const e = rejection(() => parseVariants('a:b,a/b', catalog, ['6.12']));
    expect(e.message).toBe('--variant: variants "a:b" and "a/b" both become "a-b" in cell ids and folder names');
  });
});

describe('the guest plan', () => {
  it('must fit the kernel command line', () => {
    const plan = {
      runs: [{ workload: 'uffd-populate', args: [], sizes: [64, 128] }],
      repetitions: 1,
      collectors: ['ftrace' as const],
      functions: ['__get_user_pages'],
    };
    expect(() => checkPlanFits(plan, 'kexp boot')).not.toThrow();
    const long = { ...plan, repetitions: 100, runs: [{ workload: 'uffd-populate', args: [], sizes: Array.from({ length: 40 }, (_, i) => i + 1) }] };
    expect(rejection(() => checkPlanFits(long, 'kexp boot')).message).toMatch(
      /^kexp boot: the guest plan is too long for the kernel command line \(\d+ of 2048 bytes\)/,
    );
  });
});

describe('report --function', () => {
  it('accepts what the run counted, refuses a bad name or one never counted, listing what the run has', () => {
    const counted = ['__get_user_pages', 'handle_userfault', 'kvm/kvm_async_pf_ready', '__get_user_pages'];
    expect(checkReportedFunction('--function', 'kvm/kvm_async_pf_ready', counted)).toBe('kvm/kvm_async_pf_ready');
    const bad = rejection(() => checkReportedFunction('--function', 'bad;name', counted));
    expect(bad.message).toMatch(/^--function: "bad;name" is not a kernel function name/);
    expect(bad.hint).toBe('this run counted: __get_user_pages, handle_userfault, kvm/kvm_async_pf_ready');
    const missing = rejection(() => checkReportedFunction('--function', 'do_page_fault', counted));
    expect(missing.message).toBe('--function: this run never counted "do_page_fault"');
    expect(missing.hint).toContain('handle_userfault');
    // a run still going has not counted everything its experiment counts
    expect(checkReportedFunction('--function', 'handle_userfault', ['__get_user_pages'], ['__get_user_pages', 'handle_userfault'])).toBe('handle_userfault');
    const early = rejection(() => checkReportedFunction('--function', 'do_page_fault', [], ['__get_user_pages', 'handle_userfault']));
    expect(early.hint).toBe('this run counted: (nothing yet); its experiment also counts: __get_user_pages, handle_userfault');
  });
});

describe('options several commands share', () => {
  it('--accel and --reps are declared once, with their defaults and help', () => {
    const command = new Command('x').exitOverride().addOption(accelOption()).addOption(repsOption());
    command.parse([], { from: 'user' });
    expect(command.opts()).toEqual({ accel: 'auto', reps: '1' });
    const help = command.helpInformation();
    expect(help).toMatch(/--accel <accel>\s+auto, kvm or tcg \(default: "auto"\)/);
    expect(help).toMatch(/-r, --reps <n>\s+repetitions of every workload and size \(1 to 100\)/);
    command.parse(['--accel', 'kvm', '-r', '3'], { from: 'user' });
    expect([parseAccel(command.opts().accel), parseReps(command.opts().reps)]).toEqual(['kvm', 3]);
  });

  it('repeatable flags keep every value in order', () => {
    expect(repeatable('b', repeatable('a'))).toEqual(['a', 'b']);
  });

  it('--format of report, compare and history: the known formats only, the flag named', () => {
    expect(parseReportFormat('markdown')).toBe('markdown');
    const e = rejection(() => parseReportFormat('pdf'));
    expect(e.message).toBe('--format: unknown report format "pdf"');
    expect(e.hint).toBe('use one of: text, markdown, csv, json, html');
    expect(parseHistoryFormat('html')).toBe('html');
    expect(rejection(() => parseHistoryFormat('csv')).message).toBe('--format: unknown history format "csv"');
  });

  it('--kselftest: each spec a run at every size, a bad one named with the flag', () => {
    const [plain, sized] = parseKselftests(['mm:madv_populate', 'kvm:demand_paging_test -b {n}M'], [64, 128]);
    // without {n} a program runs once, at no size; with it, at each size
    expect(plain).toMatchObject({ workload: 'mm:madv_populate', sizes: [0] });
    expect(sized?.workload).toBe('kvm:demand_paging_test');
    expect(sized?.sizes).toHaveLength(2);
    expect(parseKselftests([], [64])).toEqual([]);
    expect(rejection(() => parseKselftests(['nocolon'], [64])).message).toMatch(/^--kselftest/);
  });

  it('--notify: an empty command line is refused', () => {
    expect(parseNotify('mail me')).toBe('mail me');
    const e = rejection(() => parseNotify('  '));
    expect(e.message).toBe('--notify: the command is empty');
    expect(e.hint).toMatch(/sendmail/);
  });
});

describe('kexp bisect: the predicate and the one run', () => {
  it('--predicate is required and must be readable', () => {
    expect(parseBisectPredicate('__get_user_pages.per_page <= 2')).toMatchObject({ kind: 'figure', target: '__get_user_pages' });
    expect(parseBisectPredicate('status != crashed')).toMatchObject({ kind: 'status' });
    expect(rejection(() => parseBisectPredicate(undefined)).message).toBe('--predicate is required');
    expect(rejection(() => parseBisectPredicate('')).message).toBe('--predicate is required');
    expect(rejection(() => parseBisectPredicate('fast please')).message).toBe('--predicate: cannot read "fast please"');
  });

  it("a figure's function must be counted; a tracepoint and a status need not be", () => {
    const functions = ['__get_user_pages', 'handle_userfault'];
    checkPredicateCounted(parseBisectPredicate('handle_userfault.per_page == 1'), functions);
    checkPredicateCounted(parseBisectPredicate('kvm/kvm_async_pf_ready.per_page == 1'), functions);
    checkPredicateCounted(parseBisectPredicate('status == ok'), functions);
    const e = rejection(() => checkPredicateCounted(parseBisectPredicate('do_page_fault.per_page <= 2'), functions));
    expect(e.message).toBe('--predicate: "do_page_fault" is not counted (--functions __get_user_pages,handle_userfault)');
    expect(e.hint).toBe('add it to --functions, or judge one of __get_user_pages, handle_userfault');
  });

  it('measures exactly one workload, or the --kselftest instead', () => {
    expect(parseBisectRun({ workload: 'async-pf' }, catalog, [64, 128])).toEqual({ workload: 'async-pf', args: [], sizes: [64, 128] });
    expect(parseBisectRun({ workload: 'async-pf', kselftest: 'mm:madv_populate' }, catalog, [64])).toMatchObject({ workload: 'mm:madv_populate' });
    expect(rejection(() => parseBisectRun({ workload: 'async-pf,uffd-populate' }, catalog, [64])).message).toBe(
      '--workload: a bisection measures one workload (with its options), found "async-pf,uffd-populate"',
    );
    expect(rejection(() => parseBisectRun({ workload: 'nosuch' }, catalog, [64])).message).toMatch(/^--workload: unknown workload "nosuch"/);
  });
});
