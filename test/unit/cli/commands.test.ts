import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBisectOptions, type BisectOptions } from '../../../src/cli/bisect.js';
import { checkBootOptions, type BootFlags } from '../../../src/cli/boot.js';
import { checkBuildOptions } from '../../../src/cli/build.js';
import { checkExplainOptions, type ExplainFlags } from '../../../src/cli/explain.js';
import { checkRunOptions } from '../../../src/cli/run.js';
import { loadCatalog } from '../../../src/config/catalog.js';
import { InputError } from '../../../src/core/errors.js';

// The real project: kernels/, patches/, images/workloads/ of this repository.
const catalog = loadCatalog('.');
const boot: BootFlags = {
  kernel: '6.12',
  variant: 'baseline',
  workload: 'uffd-populate',
  pages: '64,128',
  reps: '1',
  collect: 'ftrace,kprobe',
  functions: '__get_user_pages,handle_userfault',
  accel: 'auto',
  memory: '1024',
  watchdog: '60',
};
const explain: ExplainFlags = { kernel: '6.12', variant: 'baseline', workload: 'async-pf', pages: '64,128', reps: '1', depth: '3', accel: 'auto' };

describe('kexp boot: every flag checked before anything is built', () => {
  it('turns the defaults into a boot request', () => {
    const c = checkBootOptions(boot, catalog);
    expect(c).toMatchObject({ kernel: '6.12', variant: 'baseline', accel: 'auto', memoryMiB: 1024, watchdogSeconds: 60 });
    expect(c.plan).toEqual({
      runs: [{ workload: 'uffd-populate', args: [], sizes: [64, 128] }],
      repetitions: 1,
      collectors: ['ftrace', 'kprobe'],
      functions: ['__get_user_pages', 'handle_userfault'],
    });
  });

  it('refuses each bad flag, naming it', () => {
    for (const [flags, message] of [
      [{ functions: 'bad name' }, /^--functions: "bad name"/],
      [{ workload: 'uffd-populate $(id)' }, /^--workload: "uffd-populate \$\(id\)"/],
      [{ pages: '99999999' }, /^--pages: 99999999 pages do not fit/],
      [{ watchdog: '-1' }, /^--watchdog: .*found "-1"/],
      [{ memory: 'abc' }, /^--memory: .*found "abc"/],
      [{ events: 'nogroup' }, /^--events: "nogroup"/],
      [{ kernel: '5.10' }, /^--kernel: unknown kernel "5\.10"/],
      [{ variant: 'baseline,continue' }, /^--variant: unknown variant "baseline,continue"/],
      [{ memory: '128', pages: '64,20000' }, /^--pages: 20000 pages do not fit the guest: expected at most 16384 \(half of --memory 128 MiB/],
    ] as const) {
      expect(() => checkBootOptions({ ...boot, ...flags }, catalog)).toThrow(message);
    }
  });
});

describe('kexp explain: the variants are all checked before the first is built', () => {
  it('accepts a list of variants and function names', () => {
    const c = checkExplainOptions({ ...explain, variant: 'baseline,early-break', function: '__get_user_pages' }, catalog);
    expect(c.variants).toEqual(['baseline', 'early-break']);
    expect(c).toMatchObject({ functions: ['__get_user_pages'], strict: true, depth: 3 });
  });

  it('refuses a bad variant anywhere in the list, a bad function name, one size', () => {
    expect(() => checkExplainOptions({ ...explain, variant: 'baseline,nosuch' }, catalog)).toThrow(/^--variant: unknown variant "nosuch"$/);
    expect(() => checkExplainOptions({ ...explain, variant: 'early-break,early-break' }, catalog)).toThrow(/given twice/);
    expect(() => checkExplainOptions({ ...explain, function: 'bad name' }, catalog)).toThrow(/^--function: "bad name"/);
    expect(() => checkExplainOptions({ ...explain, pages: '64' }, catalog)).toThrow(/^--pages: expected 2 different sizes/);
    expect(() => checkExplainOptions({ ...explain, depth: '0' }, catalog)).toThrow(/^--depth/);
  });
});

describe('kexp build', () => {
  it('expands kernels × variants, "all" included, and checks --jobs', () => {
    expect(checkBuildOptions({ kernel: '6.1', variant: 'baseline,early-break', jobs: '2' }, catalog)).toEqual({
      builds: [
        { kernel: '6.1', variant: 'baseline' },
        { kernel: '6.1', variant: 'early-break' },
      ],
      jobs: 2,
    });
    expect(checkBuildOptions({ kernel: 'all', variant: 'all' }, catalog).builds).toHaveLength(catalog.kernels.length * catalog.variants.length);
    expect(() => checkBuildOptions({ kernel: '6.1', variant: 'baseline', jobs: 'lots' }, catalog)).toThrow(/^--jobs: .*found "lots"/);
    expect(() => checkBuildOptions({ kernel: '6.1,nosuch', variant: 'baseline' }, catalog)).toThrow(/unknown kernel "nosuch"/);
  });
});

describe('kexp run and nightly: the experiment, --only and the flags, before the host check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexp-exp-'));
  const write = (name: string, data: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(data));
    return file;
  };
  const good = write('good.json', { name: 'good', kernels: ['6.12'], variants: ['baseline', 'continue'], workloads: [{ name: 'uffd-populate' }] });

  it('accepts a good experiment and filter', () => {
    expect(checkRunOptions('.', good, { only: 'variant=continue', jobs: '3' })).toEqual({
      jobs: 3,
      start: { file: good, only: { variant: ['continue'] }, root: '.' },
    });
  });

  it('refuses a bad filter, a bad experiment, a bad executor, flags a resume would ignore', () => {
    expect(() => checkRunOptions('.', good, { only: 'kernel=6.1=6.12' })).toThrow(/--only: "kernel=6\.1=6\.12" is not key=value/);
    expect(() => checkRunOptions('.', good, { only: 'kernel=6.1' })).toThrow(/--only: kernel "6\.1" is not in this experiment/);
    expect(() => checkRunOptions('.', good, { jobs: '0' })).toThrow(/^--jobs/);
    expect(() => checkRunOptions('.', good, { executor: 'slurm' })).toThrow(/unknown executor "slurm"/);
    const twice = write('twice.json', { name: 'twice', kernels: ['6.12'], variants: ['baseline', 'baseline'], workloads: [{ name: 'uffd-populate' }] });
    expect(() => checkRunOptions('.', twice, {})).toThrow(/variants\.1: "baseline" is listed twice \(variants\.0\)/);
    const big = write('big.json', { name: 'big', kernels: ['6.12'], variants: ['baseline'], workloads: [{ name: 'uffd-populate', args: ['--pages', '3'] }] });
    expect(() => checkRunOptions('.', big, {})).toThrow(/workloads\.0\.args: --pages is kexp's to give/);
    const folder = (): unknown => {
      try {
        return checkRunOptions('.', dir, {});
      } catch (error) {
        return error;
      }
    };
    expect(folder()).toBeInstanceOf(InputError);
    expect((folder() as InputError).message).toContain(dir);
    expect(() => checkRunOptions('.', 'experiments/default.json', { resume: 'some-run' })).toThrow(
      /--resume some-run: a resumed run keeps the experiment it recorded/,
    );
    expect(() => checkRunOptions('.', undefined, { resume: 'some-run', only: 'kernel=6.1' })).toThrow(/keeps the --only filter/);
  });
});

describe('kexp bisect: every flag checked before the first step is built, with the parsers every command uses', () => {
  // commander's defaults
  const bisect: BisectOptions = {
    series: 'patches/early-break/6.1',
    kernel: '6.1',
    workload: 'async-pf',
    pages: '64,128',
    predicate: '__get_user_pages.per_page <= 2',
    functions: '__get_user_pages,handle_userfault',
    collect: 'ftrace,kprobe',
    accel: 'auto',
  };

  it('turns the flags into a request', () => {
    expect(checkBisectOptions(bisect, catalog)).toEqual({
      source: { mode: 'series', dir: 'patches/early-break/6.1' },
      kernel: '6.1',
      plan: {
        runs: [{ workload: 'async-pf', args: [], sizes: [64, 128] }],
        repetitions: 1,
        collectors: ['ftrace', 'kprobe'],
        functions: ['__get_user_pages', 'handle_userfault'],
      },
      predicate: '__get_user_pages.per_page <= 2',
      accel: 'auto',
    });
    const git = checkBisectOptions({ ...bisect, series: undefined, kernelGit: '/src/linux', good: 'v6.1', bad: 'HEAD', accel: 'tcg' }, catalog);
    expect(git).toMatchObject({ source: { mode: 'git', repo: '/src/linux', good: 'v6.1', bad: 'HEAD' }, accel: 'tcg' });
  });

  it('refuses each bad flag, naming it, as boot and explain do', () => {
    for (const [flags, message] of [
      [{ accel: 'qemu' }, /^--accel: expected auto, kvm or tcg, found "qemu"$/],
      [{ pages: '64,1e3' }, /^--pages: expected page counts/],
      [{ kernel: 'nosuch' }, /^--kernel: unknown kernel "nosuch"/],
      [{ workload: 'async-pf,uffd-populate' }, /^--workload: a bisection measures one workload/],
      [{ functions: 'bad name' }, /^--functions: "bad name"/],
      [{ collect: 'dtrace' }, /^--collect: unknown collector "dtrace"/],
      [{ predicate: undefined }, /^--predicate is required$/],
      [{ predicate: 'do_page_fault.per_page <= 2' }, /^--predicate: "do_page_fault" is not counted/],
      [{ series: undefined }, /^give either --kernel-git DIR/],
      [{ kernelGit: '/src/linux' }, /^give either --kernel-git DIR/],
      [{ series: undefined, kernelGit: '/src/linux', good: 'v6.1' }, /^--kernel-git needs --good REV and --bad REV$/],
    ] as const) {
      const e = (() => {
        try {
          checkBisectOptions({ ...bisect, ...flags }, catalog);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(e, String(message)).toBeInstanceOf(InputError);
      expect((e as InputError).exitCode).toBe(2);
      expect((e as InputError).message).toMatch(message);
    }
  });
});
