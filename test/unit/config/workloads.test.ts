import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeWorkloadOptions, listWorkloadNames, loadWorkloadOptions, parseUsageLine, workloadArgsProblem } from '../../../src/config/workloads.js';
import { loadCatalog, variantMismatch } from '../../../src/config/catalog.js';

describe("workload options, read from the usage line of each workload's source", () => {
  it('reads the real workloads of images/workloads/', () => {
    expect(listWorkloadNames('.')).toEqual(['async-pf', 'uffd-populate', 'uffd-remote']);
    expect(loadWorkloadOptions('.', 'uffd-populate')).toEqual([{ flag: '--pages', value: 'N' }, { flag: '--write' }, { flag: '--timeout', value: 'SECONDS' }]);
    expect(describeWorkloadOptions(loadWorkloadOptions('.', 'async-pf')!)).toBe('--timeout SECONDS');
    expect(describeWorkloadOptions(loadWorkloadOptions('.', 'uffd-remote')!)).toBe('--timeout SECONDS');
    // the source states what the guest's parser accepts
    expect(readFileSync('images/workloads/uffd-populate.c', 'utf8')).toContain('Usage: uffd-populate --pages N [--write] [--timeout SECONDS]');
  });

  it('says nothing of a source without a usage line for that workload, and reads one line only', () => {
    expect(parseUsageLine('mine', 'int main(void) { return 0; }')).toBeUndefined();
    expect(parseUsageLine('mine', ' * Usage: other --pages N')).toBeUndefined();
    expect(parseUsageLine('mine', ' * Usage: mine\n * --secret X is not on the line')).toEqual([]);
    expect(parseUsageLine('a.b', ' * Usage: aXb --x')).toBeUndefined();
  });

  it("checks a spec's options against them", () => {
    const options = loadWorkloadOptions('.', 'uffd-populate');
    expect(workloadArgsProblem('uffd-populate', ['--write', '--timeout', '30'], options)).toBeUndefined();
    expect(workloadArgsProblem('uffd-populate', ['--read'], options)).toMatch(
      /"--read" is not an option of uffd-populate; uffd-populate takes --write, --timeout SECONDS/,
    );
    expect(workloadArgsProblem('uffd-populate', ['--timeout', '0'], options)).toMatch(/expected a whole number/);
    expect(workloadArgsProblem('uffd-populate', ['--timeout', '--write'], options)).toMatch(/needs a value/);
    expect(workloadArgsProblem('uffd-populate', ['$(id)'], options)).toMatch(/characters/);
    // without a usage line, only the characters
    expect(workloadArgsProblem('mine', ['--whatever', '3'], undefined)).toBeUndefined();
    expect(workloadArgsProblem('mine', ['a b;c'], undefined)).toMatch(/characters/);
  });
});

describe('the project catalog', () => {
  it('reads kernels with their series, variants with their series folders, workloads with their options', () => {
    const catalog = loadCatalog('.');
    expect(catalog.kernels).toEqual(['6.1', '6.12']);
    expect(catalog.kernelSeries).toEqual({ '6.1': '6.1', '6.12': '6.12' });
    expect(catalog.variantSeries).toMatchObject({ baseline: [], 'early-break': ['6.1', '6.12'], continue: ['6.1', '6.12'] });
    expect(catalog.workloadOptions?.['uffd-populate']?.map((o) => o.flag)).toEqual(['--pages', '--write', '--timeout']);
  });

  it("a variant applies to a kernel when it has no series folder at all, or one for that kernel's series", () => {
    const catalog = {
      kernels: ['6.1', '6.12'],
      variants: ['baseline', 'fix'],
      workloads: [],
      kernelSeries: { '6.1': '6.1', '6.12': '6.12' },
      variantSeries: { baseline: [], fix: ['6.12'] },
    };
    expect(variantMismatch(catalog, '6.1', 'baseline')).toBeUndefined();
    expect(variantMismatch(catalog, '6.12', 'fix')).toBeUndefined();
    expect(variantMismatch(catalog, '6.1', 'fix')?.problem).toMatch(/variant "fix" has patches for 6\.12 only, none for kernel 6\.1 \(series 6\.1\)/);
    // without the series data (a worker's check), nothing is claimed
    expect(variantMismatch({ kernels: ['6.1'], variants: ['fix'], workloads: [] }, '6.1', 'fix')).toBeUndefined();
  });
});
