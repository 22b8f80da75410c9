import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../../src/config/experiment.js';
import { cellId, parseOnly, planRun } from '../../../src/experiment/plan.js';
import { InputError } from '../../../src/core/errors.js';

const known = { kernels: ['6.1', '6.12'], variants: ['baseline', 'continue', 'early-break'], workloads: ['async-pf', 'uffd-populate', 'uffd-remote'] };
const defaultText = readFileSync('experiments/default.json', 'utf8');
const parse = (data: unknown): ReturnType<typeof parseExperiment> => parseExperiment('experiments/x.json', JSON.stringify(data), known);
const base = { name: 'x', kernels: ['6.12'], variants: ['baseline'], workloads: [{ name: 'uffd-populate' }] };

describe('experiment files', () => {
  it('accepts the default experiment and fills in the defaults', () => {
    const e = parseExperiment('experiments/default.json', defaultText, known);
    expect(e.kernels).toEqual(['6.1', '6.12']);
    expect(e.variants).toEqual(['baseline', 'early-break', 'continue']);
    expect(e.repetitions).toBe(3);
    expect(e.workloads.map((w) => [w.name, ...w.args].join(' '))).toEqual(['uffd-populate', 'uffd-populate --write', 'uffd-remote', 'async-pf']);
    expect(parse(base).sizes).toEqual([64, 128]);
  });

  it('names the file, the path of the bad field, what was expected and what was found', () => {
    expect(() => parse({ ...base, repetitions: 0 })).toThrow(/experiments\/x\.json: invalid\n\s+repetitions: .*(>=1|1).*\(found 0\)/);
    expect(() => parse({ ...base, workloads: [{ name: 'uffd-populate', sizes: [64, -1] }] })).toThrow(/workloads\.0\.sizes\.1: .*\(found -1\)/);
    expect(() => parse({ ...base, collectors: ['dtrace'] })).toThrow(/collectors\.0: .*\(found "dtrace"\)/);
    expect(() => parse({ ...base, extra: 1 })).toThrow(/extra/);
  });

  it('lists the known kernels, variants and workloads for an unknown one', () => {
    for (const [field, bad, list] of [
      ['kernels', { ...base, kernels: ['5.10'] }, '6.1, 6.12'],
      ['variants', { ...base, variants: ['fast'] }, 'baseline, continue, early-break'],
      ['workloads', { ...base, workloads: [{ name: 'fio' }] }, 'async-pf, uffd-populate, uffd-remote'],
    ] as const) {
      try {
        parse(bad);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).message).toMatch(new RegExp(`experiments/x\\.json: ${field}\\.0`));
        expect((error as InputError).hint).toContain(list);
      }
    }
  });

  it('refuses a report function that is not counted', () => {
    expect(() => parse({ ...base, report: { function: 'do_page_fault' } })).toThrow(/report\.function/);
  });
});

describe('run plan', () => {
  const experiment = parseExperiment('experiments/default.json', defaultText, known);

  it('expands kernels × variants × repetitions into cells, one build per kernel variant', () => {
    const plan = planRun(experiment);
    expect(plan.builds).toHaveLength(6);
    expect(plan.cells).toHaveLength(18);
    expect(plan.cells.slice(0, 6).every((c) => c.rep === 0)).toBe(true);
    const cell = plan.cells[0]!;
    expect(cell.id).toBe('6.1_baseline_r0');
    expect(cell.spec.plan.repetitions).toBe(1);
    expect(cell.spec.plan.runs).toEqual([
      { workload: 'uffd-populate', args: [], sizes: [64, 128] },
      { workload: 'uffd-populate', args: ['--write'], sizes: [64, 128] },
      { workload: 'uffd-remote', args: [], sizes: [64, 128] },
      { workload: 'async-pf', args: [], sizes: [64, 128] },
    ]);
    expect(new Set(plan.cells.map((c) => c.id)).size).toBe(18);
  });

  it('narrows with --only', () => {
    const plan = planRun(experiment, parseOnly('kernel=6.12,variant=baseline+continue,workload=uffd-populate'));
    expect(plan.builds).toEqual([
      { kernel: '6.12', variant: 'baseline' },
      { kernel: '6.12', variant: 'continue' },
    ]);
    expect(plan.cells).toHaveLength(6);
    expect(plan.cells[0]!.spec.plan.runs.map((r) => r.args)).toEqual([[], ['--write']]);
  });

  it('rejects a filter that is not key=value or names something the experiment lacks', () => {
    expect(() => parseOnly('kernel')).toThrow(/key=value/);
    expect(() => parseOnly('arch=x86')).toThrow(/key=value/);
    expect(() => planRun(experiment, parseOnly('kernel=5.10'))).toThrow(/kernel "5\.10" is not in this experiment/);
  });

  it('makes cell ids safe for folders and queue job ids', () => {
    expect(cellId('6.12', 'early/break:x', 2)).toBe('6.12_early-break-x_r2');
  });
});

describe('nothing silently misread', () => {
  const fullKnown = {
    ...known,
    kernelSeries: { '6.1': '6.1', '6.12': '6.12' },
    variantSeries: { baseline: [], continue: ['6.1', '6.12'], 'early-break': ['6.1', '6.12'] },
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
    },
  };
  const parseFull = (data: unknown, k: Parameters<typeof parseExperiment>[2] = fullKnown): ReturnType<typeof parseExperiment> =>
    parseExperiment('experiments/x.json', JSON.stringify(data), k);
  const experiment = parseExperiment('experiments/default.json', defaultText, fullKnown);

  it('--only refuses a second "=", an empty value, an unknown key, naming what is accepted', () => {
    expect(() => parseOnly('kernel=6.1=6.12')).toThrow(/--only: "kernel=6\.1=6\.12" is not key=value \(one "="/);
    expect(() => parseOnly('kernel=')).toThrow(/not key=value/);
    expect(() => parseOnly('=6.1')).toThrow(/not key=value/);
    expect(() => parseOnly('kernel=6.1+')).toThrow(/--only: "kernel=6\.1\+" has an empty value/);
    expect(() => parseOnly('')).toThrow(/--only: expected key=value filters/);
    expect(() => parseOnly('arch=x86')).toThrow(/unknown key "arch".*kernel, variant, workload/);
    expect(parseOnly('kernel=6.1,kernel=6.12+6.1')).toEqual({ kernel: ['6.1', '6.12'] });
  });

  it('--only refuses a value the experiment lacks, listing the ones it has', () => {
    for (const [only, listed] of [
      ['variant=fast', 'baseline, early-break, continue'],
      ['workload=fio', 'uffd-populate, uffd-remote, async-pf'],
      ['kernel=6.6', '6.1, 6.12'],
    ] as const) {
      try {
        planRun(experiment, parseOnly(only));
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).message).toMatch(/is not in this experiment/);
        expect((error as InputError).hint).toContain(listed);
      }
    }
  });

  it('refuses a kernel or variant listed twice, naming both places', () => {
    expect(() => parseFull({ ...base, kernels: ['6.12', '6.1', '6.12'] })).toThrow(/experiments\/x\.json: kernels\.2: "6\.12" is listed twice \(kernels\.0\)/);
    expect(() => parseFull({ ...base, variants: ['baseline', 'continue', 'continue'] })).toThrow(/variants\.2: "continue" is listed twice \(variants\.1\)/);
  });

  it('refuses variant names that clean up to the same cell id text, naming both', () => {
    const k = { ...fullKnown, variants: ['baseline', 'a:b', 'a/b'], variantSeries: { baseline: [], 'a:b': [], 'a/b': [] } };
    expect(() => parseFull({ ...base, variants: ['a:b', 'a/b'] }, k)).toThrow(/variants\.1: "a\/b" and variants\.0 "a:b" both become "a-b"/);
  });

  it('refuses two kernel × variant pairs that make one cell id (the plan checks every id)', () => {
    const e = { ...experiment, kernels: ['x_y', 'x'], variants: ['z', 'y_z'] };
    expect(() => planRun(e)).toThrow(/kernel "x_y" with variant "z" and kernel "x" with variant "y_z" both make the cell id "x_y_z_r0"/);
  });

  it("refuses a variant without patches for a kernel's series", () => {
    const k = { ...fullKnown, variants: [...fullKnown.variants, 'fix'], variantSeries: { ...fullKnown.variantSeries, fix: ['6.12'] } };
    expect(parseFull({ ...base, kernels: ['6.12'], variants: ['fix'] }, k).variants).toEqual(['fix']);
    expect(() => parseFull({ ...base, kernels: ['6.1', '6.12'], variants: ['baseline', 'fix'] }, k)).toThrow(
      /variants\.1: variant "fix" has patches for 6\.12 only, none for kernel 6\.1/,
    );
  });

  it('refuses workload options the workload does not take, and a workload listed twice', () => {
    expect(() => parseFull({ ...base, workloads: [{ name: 'uffd-remote', args: ['--write'] }] })).toThrow(
      /workloads\.0\.args: "--write" is not an option of uffd-remote/,
    );
    expect(() => parseFull({ ...base, workloads: [{ name: 'uffd-populate', args: ['--pages', '5'] }] })).toThrow(/--pages is kexp's to give/);
    expect(() => parseFull({ ...base, workloads: [{ name: 'uffd-populate' }, { name: 'async-pf' }, { name: 'uffd-populate', args: [] }] })).toThrow(
      /workloads\.2: "uffd-populate" is listed twice \(workloads\.0\)/,
    );
    expect(parseFull({ ...base, workloads: [{ name: 'uffd-populate' }, { name: 'uffd-populate', args: ['--write'] }] }).workloads).toHaveLength(2);
  });

  it("refuses sizes the guest's memory cannot hold", () => {
    expect(() => parseFull({ ...base, sizes: [64, 200000] })).toThrow(/sizes\.1: 200000 pages do not fit a guest of 1024 MiB \(memoryMiB\): at most 131072/);
    expect(parseFull({ ...base, sizes: [64, 200000], memoryMiB: 2048 }).sizes).toEqual([64, 200000]);
    expect(() => parseFull({ ...base, workloads: [{ name: 'async-pf', sizes: [64, 150000] }] })).toThrow(/workloads\.0\.sizes\.1: 150000 pages/);
  });

  it('refuses a watchdog over an hour and a reported tracepoint that is not group/name', () => {
    expect(() => parseFull({ ...base, timeouts: { watchdogSeconds: 7200 } })).toThrow(/timeouts\.watchdogSeconds: expected 5 to 3600 seconds, found 7200/);
    expect(() => parseFull({ ...base, report: { function: 'kvm/bad;name' } })).toThrow(/report\.function: "kvm\/bad;name" is neither/);
    expect(parseFull({ ...base, report: { function: 'kvm/kvm_async_pf_ready' } }).report.function).toBe('kvm/kvm_async_pf_ready');
  });
});
