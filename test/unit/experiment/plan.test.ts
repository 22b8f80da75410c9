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
    expect(plan.builds).toEqual([{ kernel: '6.12', variant: 'baseline' }, { kernel: '6.12', variant: 'continue' }]);
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
